"""YOLO ("you only look once"): one forward pass gives, for each of S x S grid cells and B
anchors, the course's vector (pc, bx, by, bh, bw, c_1..c_C).

The network ends in a 1x1 convolution with B (5 + C) channels; reshaped, its output is

    out (N, S, S, B, 5 + C) = (t_o, t_x, t_y, t_h, t_w, z_1..z_C) per cell (row i, column j)
                              and anchor b, raw,

read as YOLOv2 reads it (yolo_head):

    pc = sigmoid(t_o)                      is there an object centered in this cell?
    bx = (j + sigmoid(t_x)) / S            the center stays inside its cell
    by = (i + sigmoid(t_y)) / S
    bh = anchor_h exp(t_h)                 a size relative to the anchor's
    bw = anchor_w exp(t_w)
    p(class) = softmax(z)

Boxes are in fractions of the image, anchors too (anchors.py). Detection (yolo_eval) is the
course's pipeline: score = pc * p(class), keep the best class of each box, drop scores below
a threshold, then non-max suppression per class.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import functional as F
from ...autograd import no_grad
from ...io import load, save
from ...nn import BatchNorm2d, Conv2d, LeakyReLU, MaxPool2d, Module, Sequential
from ...ops import concatenate
from ...ops.activation import sigmoid_array, softmax_array
from ...tensor import Tensor, to_numpy
from .anchors import _anchors
from .boxes import center_to_corners, clip_boxes, non_max_suppression
from .localization import _target, piecewise_loss

__all__ = ["YOLO", "Detections", "yolo_loss", "yolo_head", "yolo_filter_boxes", "yolo_eval",
           "save_detector", "load_detector"]


# ---- the loss ---------------------------------------------------------------------------
def _box_targets(Y: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """What t_x.. should become where pc = 1: the center's offset inside its cell and the
    log of the size relative to the anchor; zeros where pc = 0 (masked out anyway)."""
    S = Y.shape[1]
    pc = Y[..., 0] > 0
    j = np.arange(S).reshape(1, 1, S, 1)
    i = np.arange(S).reshape(1, S, 1, 1)
    T = np.zeros(Y.shape[:-1] + (4,), dtype=Y.dtype)
    T[..., 0] = np.where(pc, Y[..., 1] * S - j, 0)
    T[..., 1] = np.where(pc, Y[..., 2] * S - i, 0)
    hw = np.where(pc[..., None], Y[..., 3:5], anchors)  # log(anchor / anchor) = 0 off objects
    T[..., 2:] = np.log(np.maximum(hw, 1e-9) / anchors)
    return T


def yolo_loss(out: Tensor, Y, anchors, lambda_coord: float = 5.0,
              lambda_noobj: float = 0.5) -> Tensor:
    """The course's piecewise loss in every cell and anchor, with YOLOv1's weights:

        sum over cells and anchors of
              (1 if pc else lambda_noobj) * logistic(t_o, pc)
            + lambda_coord * pc * ||(sigmoid(t_x), sigmoid(t_y), t_h, t_w) - (x, y, h, w)||^2
            + pc * cross_entropy(z, class)
        averaged over the N images,

    where (x, y) is the object's center offset inside its cell (in [0, 1)) and
    (h, w) = (log(bh / anchor_h), log(bw / anchor_w)): the quantities YOLOv2 regresses, so
    that a small box's error counts as much as a big one's (YOLOv1 took square roots of the
    sizes for the same reason). lambda_noobj < 1 because most anchors hold no object.

    out: (N, S, S, B, 5 + C) raw (YOLO.forward); Y: the targets, same shape (yolo_targets).
    Unlike YOLOv2 no anchor is exempted from the no-object term when its box happens to
    overlap an object well: the assignment alone decides.
    """
    a = _anchors("yolo_loss", anchors)
    if out.ndim != 5 or out.shape[3] != len(a) or out.shape[1] != out.shape[2] or out.shape[4] < 6:
        raise ValueError(f"yolo_loss: output must be (N, S, S, B={len(a)}, 5 + C), got {out.shape}")
    Y = _target("yolo_loss", Y, out.shape, dtype=out.dtype)
    T = _box_targets(Y, a.astype(Y.dtype))
    box_hat = concatenate([F.sigmoid(out[..., 1:3]), out[..., 3:5]], axis=-1)
    return piecewise_loss(t_o=out[..., 0], box_hat=box_hat, z=out[..., 5:], pc=Y[..., 0], box=T,
                          classes=Y[..., 5:], m=out.shape[0], lambda_coord=lambda_coord,
                          lambda_noobj=lambda_noobj)


# ---- from outputs to boxes -----------------------------------------------------------------
def yolo_head(out, anchors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw outputs (N, S, S, B, 5 + C) -> (pc (N, S, S, B), boxes (N, S, S, B, 4) in the
    center form (bx, by, bh, bw), fractions of the image, class probabilities (N, S, S, B, C))."""
    o = to_numpy(out)
    a = _anchors("yolo_head", anchors)
    if o.ndim != 5 or o.shape[3] != len(a) or o.shape[4] < 6:
        raise ValueError(f"yolo_head: output must be (N, S, S, B={len(a)}, 5 + C), got {o.shape}")
    S = o.shape[1]
    j = np.arange(S).reshape(1, 1, S, 1)
    i = np.arange(S).reshape(1, S, 1, 1)
    boxes = np.empty(o.shape[:-1] + (4,), dtype=o.dtype)
    boxes[..., 0] = (j + sigmoid_array(o[..., 1])) / S
    boxes[..., 1] = (i + sigmoid_array(o[..., 2])) / S
    boxes[..., 2:] = a * np.exp(np.minimum(o[..., 3:5], 10.0))   # capped: exp(10) is 22,000 anchors
    return sigmoid_array(o[..., 0]), boxes, softmax_array(o[..., 5:])


def yolo_filter_boxes(pc, boxes, probs, threshold: float = 0.6):
    """The course's yolo_filter_boxes: score = pc * p(class); each box keeps its best class;
    boxes scoring below `threshold` go. Any leading shape -> (scores (k,), boxes (k, 4),
    classes (k,)), flattened."""
    scores_all = np.asarray(pc)[..., None] * np.asarray(probs)
    classes = scores_all.argmax(axis=-1)
    scores = scores_all.max(axis=-1)
    keep = scores >= threshold
    return scores[keep], np.asarray(boxes)[keep], classes[keep]


@dataclass
class Detections:
    """What a detector found in one image: boxes (k, 4) corner form in pixels, scores (k,),
    labels (k,) class indices; sorted by decreasing score."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def yolo_eval(out, anchors, image_size, score_threshold: float = 0.6,
              iou_threshold: float = 0.5, max_boxes: int = 10) -> list:
    """The course's yolo_eval for each image of a batch: yolo_head, then filter by score,
    then non-max suppression per class, then the max_boxes best. image_size: (H, W) in
    pixels, to scale the boxes to. Returns one Detections per image."""
    H, W = image_size
    pc, boxes, probs = yolo_head(out, anchors)
    scale = np.array([W, H, W, H], dtype=np.float64)
    found = []
    for n in range(len(pc)):
        scores, b, classes = yolo_filter_boxes(pc[n], boxes[n], probs[n], threshold=score_threshold)
        b = clip_boxes(center_to_corners(b) * scale, H, W)
        keep = non_max_suppression(b, scores, classes, score_threshold=score_threshold,
                                   iou_threshold=iou_threshold, max_boxes=max_boxes)
        found.append(Detections(b[keep].astype(np.float32), scores[keep].astype(np.float32),
                                classes[keep].astype(np.int64)))
    return found


# ---- the network ------------------------------------------------------------------------------
def _block(c_in: int, c_out: int, stride: int = 1) -> list:
    """CONV 3x3 (no bias: batch norm's beta is the bias) - BATCH NORM - LEAKY RELU (0.1)."""
    return [Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False, init="he_normal"),
            BatchNorm2d(c_out), LeakyReLU(0.1)]


class YOLO(Module):
    """A small YOLO for grey or colour images:

        CONV 3x3 / stem_stride - MAX-POOL 2   for channels[0]
        CONV 3x3 - MAX-POOL 2                 for each of channels[1:-1]
        CONV 3x3                              for channels[-1]
        CONV 1x1 -> B (5 + C)                 the detector: (t_o, t_x, t_y, t_h, t_w, z) per anchor

    (each CONV 3x3 followed by batch norm and leaky ReLU). The grid is
    S = image_size / (stem_stride * 2^(len(channels) - 1)): 4 x 4 on 64 x 64 images with the
    defaults (~100k parameters). A stem of stride 2 halves the cost but loses the thin
    strokes' positions. forward returns
    the raw output (N, S, S, B, 5 + C) for yolo_loss and yolo_eval; `detect` runs the whole
    pipeline.
    """

    def __init__(self, num_classes: int, anchors, image_size: int = 64, in_channels: int = 1,
                 channels=(8, 16, 32, 64, 128), stem_stride: int = 1, class_names=None):
        super().__init__()
        a = _anchors("YOLO", anchors)
        if num_classes < 1:
            raise ValueError(f"YOLO: num_classes must be >= 1, got {num_classes}")
        if len(channels) < 2:
            raise ValueError(f"YOLO: channels needs at least 2 entries, got {channels}")
        stride = stem_stride * 2 ** (len(channels) - 1)
        if image_size % stride:
            raise ValueError(f"YOLO: image_size {image_size} must be a multiple of the total stride "
                             f"{stride} (stem_stride {stem_stride}, {len(channels) - 1} poolings)")
        self.num_classes, self.anchors = int(num_classes), a
        self.image_size, self.in_channels = int(image_size), int(in_channels)
        self.channels, self.stem_stride = tuple(int(c) for c in channels), int(stem_stride)
        self.grid = image_size // stride
        self.class_names = tuple(class_names) if class_names else tuple(str(k) for k in range(num_classes))
        if len(self.class_names) != num_classes:
            raise ValueError(f"YOLO: {len(self.class_names)} class names for {num_classes} classes")
        layers = _block(in_channels, channels[0], stem_stride) + [MaxPool2d(2)]
        for c_in, c_out in zip(channels[:-2], channels[1:-1]):
            layers += _block(c_in, c_out) + [MaxPool2d(2)]
        layers += _block(channels[-2], channels[-1])
        self.features = Sequential(*layers)
        self.detector = Conv2d(channels[-1], len(a) * (5 + num_classes), 1)

    def forward(self, X: Tensor) -> Tensor:
        s = self.image_size
        if X.ndim != 4 or X.shape[1:] != (self.in_channels, s, s):
            raise ValueError(f"YOLO: expected images (N, {self.in_channels}, {s}, {s}), got {X.shape}")
        Z = self.detector(self.features(X))                       # (N, B (5 + C), S, S)
        N, S, B = X.shape[0], self.grid, len(self.anchors)
        return Z.reshape(N, B, 5 + self.num_classes, S, S).permute(0, 3, 4, 1, 2)

    def loss(self, out: Tensor, Y, lambda_coord: float = 5.0, lambda_noobj: float = 0.5) -> Tensor:
        return yolo_loss(out, Y, self.anchors, lambda_coord=lambda_coord, lambda_noobj=lambda_noobj)

    def detect(self, images, score_threshold: float = 0.5, iou_threshold: float = 0.5,
               max_boxes: int = 10, batch_size: int = 256) -> list:
        """Detections (boxes in pixels) for images (N, C, H, W) in [0, 1], in eval mode."""
        X = to_numpy(images)
        dtype = self.detector.W.dtype
        found = []
        with self.evaluating(), no_grad():
            for k in range(0, len(X), batch_size):
                out = self(Tensor(X[k:k + batch_size].astype(dtype, copy=False)))
                found += yolo_eval(out, self.anchors, X.shape[2:], score_threshold=score_threshold,
                                   iou_threshold=iou_threshold, max_boxes=max_boxes)
        return found

    def config(self) -> dict:
        """What it takes to build the same network again (saved beside the weights)."""
        return {"num_classes": self.num_classes, "anchors": self.anchors.tolist(),
                "image_size": self.image_size, "in_channels": self.in_channels,
                "channels": list(self.channels), "stem_stride": self.stem_stride,
                "class_names": list(self.class_names)}

    def extra_repr(self) -> str:
        return (f"grid={self.grid}, anchors={len(self.anchors)}, num_classes={self.num_classes}, "
                f"image_size={self.image_size}")


FORMAT = "gradwise-yolo"


def save_detector(model: YOLO, path, **info) -> None:
    """Write the network's configuration and weights to one file (gradwise.save: npz,
    atomic, no pickle). Extra keyword values (numbers, strings) are stored as `info`."""
    save({"format": FORMAT, "config": model.config(), "model": model.state_dict(), "info": info},
         path)


def load_detector(path) -> YOLO:
    """Rebuild a YOLO saved by save_detector; its `info` dict becomes model.info."""
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"load_detector: {path} is not a detector saved by save_detector "
                         f"(no '{FORMAT}' format tag)")
    model = YOLO(**ckpt["config"])
    model.load_state_dict(ckpt["model"])
    model.info = ckpt.get("info", {})
    model.eval()
    return model
