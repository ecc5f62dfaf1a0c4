"""The MNIST-canvas detector: data, anchors, training, evaluation and saving in one recipe.

    from gradwise.vision.detection.digits import train_digit_detector
    model, report = train_digit_detector("runs/detect/digits.npz")
    report["mAP"]                       # mAP@0.5 on held-out canvases of unseen MNIST digits

This is what `gradwise detect --train` runs. The sizes are chosen for a CPU: 64 x 64
canvases, a 4 x 4 grid with 2 anchors (found by k-means on the training boxes), six
convolutions and ~100k parameters, 12 epochs of 8000 fresh canvases.
"""
from __future__ import annotations

import time

import numpy as np

from ...backend import manual_seed
from ...optim import Adam
from ...optim.lr_scheduler import CosineAnnealingLR
from ...train import fit
from .anchors import kmeans_anchors
from .draw import draw_detections, prepare_image, save_png
from .metrics import mean_average_precision
from .synth import DetectionSet, make_mnist_detection
from .yolo import YOLO, load_detector, save_detector

__all__ = ["train_digit_detector", "evaluate_detector", "box_shapes", "FreshCanvases",
           "write_sample", "detect_file"]


def box_shapes(data: DetectionSet) -> np.ndarray:
    """Every box's (bh, bw) in fractions of its image: (number of objects, 2)."""
    H, W = data.image_size
    b = np.concatenate(data.boxes) if len(data) else np.zeros((0, 4), np.float32)
    return np.stack([(b[:, 3] - b[:, 1]) / H, (b[:, 2] - b[:, 0]) / W], axis=1)


def evaluate_detector(model: YOLO, data: DetectionSet, iou_threshold: float = 0.5,
                      score_threshold: float = 0.01, max_boxes: int = 20) -> dict:
    """mAP@iou_threshold of `model` on `data`. Detections are kept down to a low score
    (0.01), as benchmarks do, so that the precision-recall curve runs its whole length."""
    found = model.detect(data.images, score_threshold=score_threshold, max_boxes=max_boxes)
    return mean_average_precision(found, list(zip(data.boxes, data.labels)),
                                  num_classes=model.num_classes, iou_threshold=iou_threshold)


class FreshCanvases:
    """Mini-batches (X, Y) for fit that never repeat: each pass (epoch) draws n new canvases,
    so the detector cannot memorize them (the generator is the dataset). Pass e is drawn
    from the seed sequence (seed, e): the same seed gives the same run. len() is the number
    of batches in one pass."""

    def __init__(self, n: int, batch_size: int, grid: int, anchors, seed: int = 0, data_dir=None,
                 **canvas):
        self.n, self.batch_size, self.grid, self.anchors = n, batch_size, grid, anchors
        self.seed, self.data_dir, self.canvas, self.epoch = seed, data_dir, canvas, 0

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def state_dict(self) -> dict:
        """The passes drawn so far: a checkpoint resumes with the next pass's canvases."""
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        data = make_mnist_detection(self.n, seed=rng, data_dir=self.data_dir, **self.canvas)
        Y = data.targets(self.grid, self.anchors)
        for k in range(0, self.n, self.batch_size):
            yield data.images[k:k + self.batch_size], Y[k:k + self.batch_size]


def train_digit_detector(path=None, n_train: int = 8000, n_test: int = 1000, epochs: int = 12,
                         batch_size: int = 32, lr: float = 3e-3, anchors: int = 2,
                         channels=(8, 16, 32, 64, 128), stem_stride: int = 1, canvas_size: int = 64,
                         seed: int = 0, data_dir=None, verbose: int = 1, echo=print):
    """Train a YOLO on MNIST canvases and measure its mAP@0.5 on held-out ones.

    Each epoch trains on n_train new canvases of MNIST's training digits (FreshCanvases);
    the n_test held-out canvases use MNIST's test digits. The anchors are k-means shapes of
    the boxes of (up to) 2000 training canvases. Adam with a cosine-annealed learning rate.
    `seed` decides every draw (canvases, anchors, initial weights, batches): the same seed
    gives the same detector. Saves it to `path` (when given) with the numbers in its info.
    Returns (model, report) with report = {'mAP', 'ap', 'train_seconds', 'history', ...}.
    """
    start = time.perf_counter()
    manual_seed(seed)   # the initial weights come from gradwise's generator
    sample = make_mnist_detection(min(n_train, 2000), canvas_size=canvas_size, data_dir=data_dir,
                                  seed=np.random.default_rng([seed, 2 ** 31]))
    test = make_mnist_detection(n_test, canvas_size=canvas_size, split="test", seed=seed + 1,
                                data_dir=data_dir)
    shapes = kmeans_anchors(box_shapes(sample), anchors, seed=seed)
    model = YOLO(len(test.classes), shapes, image_size=canvas_size, channels=channels,
                 stem_stride=stem_stride, class_names=test.classes)
    lost = sample.num_objects - int(sample.targets(model.grid, model.anchors)[..., 0].sum())
    echo(f"data: {n_train} new training canvases per epoch, {len(test)} held-out ({test.num_objects} "
         f"digits); grid {model.grid}x{model.grid}, anchors (bh, bw) in pixels "
         f"{np.round(shapes * canvas_size, 1).tolist()}; {lost / sample.num_objects:.2%} of the "
         f"digits share a cell and anchor with another and are left out of the targets "
         f"({time.perf_counter() - start:.1f} s)")
    train = FreshCanvases(n_train, batch_size, grid=model.grid, anchors=model.anchors, seed=seed,
                          data_dir=data_dir, canvas_size=canvas_size)
    opt = Adam(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    history = fit(model, model.loss, opt, train, epochs=epochs, metrics=(),
                  scheduler=CosineAnnealingLR(opt, T_max=epochs), seed=seed, verbose=verbose)
    train_seconds = time.perf_counter() - t0
    scores = evaluate_detector(model, test)
    report = {"mAP": scores["mAP"], "ap": scores["ap"].tolist(), "train_seconds": train_seconds,
              "epochs": epochs, "n_train": n_train, "n_test": n_test, "seed": seed,
              "final_loss": history.history["loss"][-1], "history": history.history["loss"]}
    echo(f"mAP@0.5 on {len(test)} held-out canvases: {scores['mAP']:.3f} (per digit: "
         + ", ".join(f"{a:.2f}" for a in scores["ap"]) + f"); training took {train_seconds:.0f} s")
    if path is not None:
        save_detector(model, path, mAP=scores["mAP"], train_seconds=train_seconds, epochs=epochs,
                      n_train=n_train, seed=seed)
        echo(f"saved the detector to {path}")
    return model, report


def write_sample(path, seed: int = 0, canvas_size: int = 64, data_dir=None, echo=print):
    """A canvas of unseen MNIST digits (the test split) saved as a PNG, something to run the
    detector on; prints its true boxes. Returns (boxes, labels)."""
    data = make_mnist_detection(1, canvas_size=canvas_size, split="test", seed=seed,
                                data_dir=data_dir)
    save_png(data.images[0, 0], path)
    echo(f"wrote {path}: a {canvas_size}x{canvas_size} canvas of MNIST test digits (seed {seed}); "
         f"true boxes (x1, y1, x2, y2):")
    for box, label in zip(data.boxes[0], data.labels[0]):
        echo(f"  {data.classes[label]}  {tuple(int(v) for v in box)}")
    return data.boxes[0], data.labels[0]


def detect_file(image, out, weights, score_threshold: float = 0.5, iou_threshold: float = 0.5,
                max_boxes: int = 10, echo=print):
    """Run a saved detector on an image file and draw what it finds on a PNG `out`.
    Returns the Detections, boxes in the original image's pixels."""
    from pathlib import Path

    if not Path(weights).is_file():
        raise FileNotFoundError(f"no detector at '{weights}': train one with `gradwise detect --train` "
                                f"(or pass --weights FILE)")
    model = load_detector(weights)
    X, frame = prepare_image(image, model.image_size, channels=model.in_channels)
    found = model.detect(X, score_threshold=score_threshold, iou_threshold=iou_threshold,
                         max_boxes=max_boxes)[0]
    found.boxes = frame.to_image(found.boxes).astype(np.float32)
    draw_detections(frame.original, found.boxes, found.scores, labels=found.labels,
                    class_names=model.class_names, path=out)
    note = " (inverted: dark ink on light background)" if frame.inverted else ""
    echo(f"{len(found)} object(s) found in {image}{note}; drawn on {out}")
    for box, s, c in zip(found.boxes, found.scores, found.labels):
        echo(f"  {model.class_names[c]}  score {s:.2f}  box ({', '.join(f'{v:.1f}' for v in box)})")
    return found
