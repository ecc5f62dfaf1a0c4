"""Classification with localization, and landmarks: the course's output vector y and its loss.

For one object per image the network outputs the course's vector, raw (before activations):

    y_hat = (t_o, bx, by, bh, bw, z_1, ..., z_C)      pc = sigmoid(t_o), class probabilities
                                                      softmax(z), the box (center form, in
                                                      fractions of the image) as it is
    y     = (pc, bx, by, bh, bw, c_1, ..., c_C)       pc in {0, 1}, c one-hot

and the loss is piecewise in pc, as in the lecture, with the stable choices of each term:

    L = -[pc log sigmoid(t_o) + (1 - pc) log(1 - sigmoid(t_o))]      logistic, always
        + pc * ||(bx, by, bh, bw)_hat - (bx, by, bh, bw)||^2          squared error, objects only
        + pc * (-sum_c c_c log softmax(z)_c)                          cross-entropy, objects only

summed over the terms and averaged over the batch. When no object is present (pc = 0) only
the first term counts: the box and the class of an empty image mean nothing. YOLO's loss
(yolo.py) is the same loss in every cell and anchor, with weights.

Landmarks: L points (x, y) in fractions of the image, regressed with squared error.
"""
from __future__ import annotations

import numpy as np

from ... import functional as F
from ...nn import Linear, Module
from ...ops.activation import sigmoid_array, softmax_array
from ...tensor import Tensor, to_numpy

__all__ = ["piecewise_loss", "localization_loss", "LocalizationHead", "LandmarkHead",
           "landmark_loss"]


def _target(name: str, Y, shape: tuple, dtype) -> np.ndarray:
    Y = to_numpy(Y)
    if Y.shape != tuple(shape):
        raise ValueError(f"{name}: target shape {Y.shape} must equal the output's {tuple(shape)}")
    if Y.dtype.kind not in "fiub":
        raise TypeError(f"{name}: target must be numbers, got dtype {Y.dtype}")
    pc = Y[..., 0]
    if not np.isin(pc, (0, 1)).all():
        raise ValueError(f"{name}: pc (Y[..., 0]) must be 0 or 1, got values {np.unique(pc)[:5].tolist()}")
    return Y.astype(dtype, copy=False)


def piecewise_loss(t_o: Tensor, box_hat: Tensor, z: Tensor, pc: np.ndarray, box: np.ndarray,
                   classes: np.ndarray, m: int, lambda_coord: float = 1.0,
                   lambda_noobj: float = 1.0) -> Tensor:
    """The three terms of the course's loss, summed over every leading position and divided
    by the batch size m:

        logistic(t_o, pc) * (1 if pc else lambda_noobj)
        + lambda_coord * pc * ||box_hat - box||^2
        + pc * cross_entropy(z, classes)

    t_o (...), box_hat (..., 4), z (..., C) are Tensors; pc (...), box (..., 4) and the
    one-hot classes (..., C) are constant data. Built from gradwise ops, so its gradient is
    theirs: dt_o = w (sigmoid(t_o) - pc) / m, dbox = 2 lambda_coord pc (box_hat - box) / m,
    dz = pc (softmax(z) - c) / m.
    """
    dtype = t_o.dtype
    weight = (pc + lambda_noobj * (1 - pc)).astype(dtype)
    confidence = (F.binary_cross_entropy_with_logits(t_o, pc, reduction="none") * weight).sum()
    err = box_hat - box
    coord = (err * err * (lambda_coord * pc[..., None]).astype(dtype)).sum()
    C = z.shape[-1]
    onehot = (classes * pc[..., None]).reshape(-1, C).astype(dtype)  # no class where no object
    klass = F.cross_entropy(z.reshape(-1, C), onehot, reduction="sum")
    return (confidence + coord + klass) / float(m)


def localization_loss(out: Tensor, Y) -> Tensor:
    """The course's loss for classification with localization (see the module docstring).

    out: (m, 5 + C) raw outputs (t_o, bx, by, bh, bw, z_1..z_C), e.g. of a LocalizationHead;
    Y: (m, 5 + C) targets (pc, bx, by, bh, bw, c_1..c_C). Returns the mean over the batch.
    """
    if out.ndim != 2 or out.shape[1] < 6:
        raise ValueError(f"localization_loss: output must be (m, 5 + C) with C >= 1, got {out.shape}")
    Y = _target("localization_loss", Y, out.shape, dtype=out.dtype)
    return piecewise_loss(t_o=out[:, 0], box_hat=out[:, 1:5], z=out[:, 5:], pc=Y[:, 0],
                          box=Y[:, 1:5], classes=Y[:, 5:], m=out.shape[0])


class LocalizationHead(Module):
    """A dense layer from features (m, in_features) to the course's y_hat (m, 5 + C):
    (t_o, bx, by, bh, bw, z_1..z_C), raw; pair it with localization_loss, read it with decode."""

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"LocalizationHead: num_classes must be >= 1, got {num_classes}")
        self.num_classes = int(num_classes)
        self.fc = Linear(in_features, 5 + num_classes)

    def forward(self, X: Tensor) -> Tensor:
        return self.fc(X)

    @staticmethod
    def decode(out) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pc (m,), boxes (m, 4) center form, class probabilities (m, C)) from raw outputs."""
        a = to_numpy(out)
        return sigmoid_array(a[:, 0]), a[:, 1:5].copy(), softmax_array(a[:, 5:], axis=1)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"


class LandmarkHead(Module):
    """A dense layer from features (m, in_features) to L landmarks (m, L, 2): the points
    (x, y) in fractions of the image, as the course's (l1x, l1y, ..., lLx, lLy)."""

    def __init__(self, in_features: int, num_landmarks: int):
        super().__init__()
        if num_landmarks < 1:
            raise ValueError(f"LandmarkHead: num_landmarks must be >= 1, got {num_landmarks}")
        self.num_landmarks = int(num_landmarks)
        self.fc = Linear(in_features, 2 * num_landmarks)

    def forward(self, X: Tensor) -> Tensor:
        return self.fc(X).reshape(X.shape[0], self.num_landmarks, 2)

    def extra_repr(self) -> str:
        return f"num_landmarks={self.num_landmarks}"


def landmark_loss(pred: Tensor, target, visible=None) -> Tensor:
    """sum over landmarks l of v_l ||p_hat_l - p_l||^2, averaged over the batch.

    pred, target: (m, L, 2); visible: optional (m, L) 0/1 (a landmark hidden in the image,
    an eye behind a hand, gets no error). Default: every landmark counts.
    """
    if pred.ndim != 3 or pred.shape[2] != 2:
        raise ValueError(f"landmark_loss: predictions must be (m, L, 2), got {pred.shape}")
    t = to_numpy(target)
    if t.shape != pred.shape:
        raise ValueError(f"landmark_loss: target shape {t.shape} must equal predictions {pred.shape}")
    err = pred - t.astype(pred.dtype, copy=False)
    sq = err * err
    if visible is not None:
        v = to_numpy(visible)
        if v.shape != pred.shape[:2]:
            raise ValueError(f"landmark_loss: visible must be (m, L) = {pred.shape[:2]}, got {v.shape}")
        sq = sq * v[..., None].astype(pred.dtype)
    return sq.sum() / float(pred.shape[0])
