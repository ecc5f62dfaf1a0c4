"""LeNet-5 training (classic: tanh, average pooling, 28 x 28 padded to 32 x 32); the code is
in cnn.py, which describes the three CNN workloads."""
from __future__ import annotations

import functools

from cnn import SYSTEMS, init_params, make_data, sanity  # noqa: F401
from cnn import config as _config

NAME = "cnn_lenet5"
DESCRIPTION = ("LeNet-5 (conv 6 5x5 pad 2, tanh, avg-pool 2, conv 16 5x5, tanh, avg-pool 2, "
               "FC 120, 84, 10) training, SGD lr 0.5, batch 100, 1 epoch")
TARGETS = {"gradwise": {"max_ratio": 1.5, "max_rss_mb": 350}}
config = functools.partial(_config, workload="lenet5")
