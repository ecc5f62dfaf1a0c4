"""What the ONNX node importers share: the error for what gradwise does not run, and the
reading of settings that ONNX passes as tensors (shapes, axes, pads) as plain numbers
(tensor.to_numpy)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, to_numpy


class Unsupported(NotImplementedError):
    """An op or an attribute value that gradwise does not run."""


def _const(arr) -> Tensor:
    return Tensor(np.asarray(arr))


def _axes_of(x, a, opset, since: int):
    """Axes from the attribute (opsets before `since`) or the second input (from it on)."""
    if opset < since:
        return a.get("axes")
    return None if len(x) < 2 or x[1] is None else [int(v) for v in to_numpy(x[1]).reshape(-1)]
