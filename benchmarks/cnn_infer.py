"""Inference of SimpleConvNet and LeNet-5 (forward only, no_grad, eval mode); the code is in
cnn.py, which describes the three CNN workloads."""
from __future__ import annotations

import functools

from cnn import SYSTEMS, init_params, make_data, sanity  # noqa: F401
from cnn import config as _config

NAME = "cnn_infer"
DESCRIPTION = "SimpleConvNet and LeNet-5 inference, batch 100, forward only"
TARGETS = {"gradwise": {"max_ratio": 1.0, "max_rss_mb": 350}}
config = functools.partial(_config, workload="infer")
