"""The CNN chapter's recipes on real MNIST, as plain training loops: the book's SimpleConvNet,
LeNet-5, and transfer learning from digits 0-4 to digits 5-9.

    gradwise lab recipe simple_convnet      # the book's net and training
    gradwise lab recipe lenet5              # the classic LeNet-5 (tanh, avg-pool)
    gradwise lab recipe lenet5_shift        # ... on randomly shifted digits
    gradwise lab recipe lenet5_relu         # ReLU and max pooling
    gradwise lab recipe transfer            # digits 0-4 -> 5-9, 10 labels each

Each recipe is the loop a PyTorch user writes (DataLoader, forward, cross_entropy, zero_grad,
backward, Adam step), evaluated on the 10,000 test digits after every epoch. The accuracy
reported is the last epoch's, for an epoch count fixed in advance (never the best epoch on
the test set). The files are looked up as gradwise.datasets.load_mnist does (GRADWISE_DATA,
then the cache directory, then a verified download).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .. import backend
from .. import functional as F
from ..data import DataLoader, RandomCrop
from ..models import LeNet5, SimpleConvNet, freeze, trainable_parameters, unfreeze
from ..optim import Adam
from ..optim.lr_scheduler import ExponentialLR
from ..train import predict
from ..train.metrics import accuracy
from .book import mnist

# the training set's pixel mean and standard deviation (pixels in [0, 1])
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
EVAL_BATCH = 1000       # test digits per forward pass


@dataclass
class Recipe:
    """How a reference result is trained: model, optimizer, schedule, epochs, input scaling."""

    build: object                       # () -> Module
    epochs: int
    batch_size: int = 100
    lr: float = 1e-3                    # Adam
    lr_decay: float = 1.0               # lr *= lr_decay after each epoch (ExponentialLR)
    standardize: bool = False           # (x - mean) / std instead of pixels in [0, 1]
    shift: int = 0                      # augmentation: random shifts of up to `shift` pixels
    note: str = ""


RECIPES = {
    # the book's ch. 7 training (train_convnet.py): Adam 0.001, batch 100, 20 epochs, the
    # book's initialization (weight_init_std 0.01), pixels in [0, 1]
    "simple_convnet": Recipe(lambda: SimpleConvNet(), epochs=20, lr=1e-3,
                             note="book ch. 7: conv 30 5x5 - relu - pool - affine 100 - relu - affine 10"),
    # the classic: tanh and average pooling, the 28 x 28 digit padded to 32 x 32; LeCun
    # centred and scaled the inputs, so the pixels are standardized here
    "lenet5": Recipe(lambda: LeNet5(input_size=28), epochs=20, batch_size=64, lr=1e-3,
                     lr_decay=0.9, standardize=True,
                     note="LeNet-5 classic (tanh, average pooling), 61,706 parameters"),
    # the classic trained on randomly shifted digits (up to 2 pixels each way), a simple form
    # of the paper's distortions of the training set
    "lenet5_shift": Recipe(lambda: LeNet5(input_size=28), epochs=20, batch_size=64, lr=1e-3,
                           lr_decay=0.9, standardize=True, shift=2,
                           note="LeNet-5 classic, training digits shifted by up to 2 pixels"),
    # the modern variant: ReLU and max pooling, the same layers and training
    "lenet5_relu": Recipe(lambda: LeNet5(activation="relu", pooling="max", input_size=28),
                          epochs=20, batch_size=64, lr=1e-3, lr_decay=0.9, standardize=True,
                          note="LeNet-5 with ReLU and max pooling, 61,706 parameters"),
}


@dataclass
class Record:
    """The record of one training run: one dict per epoch, the test accuracy after the last,
    and the seconds of training and evaluation, all epochs."""

    name: str
    epochs: list = field(default_factory=list)
    test_accuracy: float = float("nan")
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def digits(standardize: bool = False, data_dir=None):
    """MNIST as NCHW float32 images: ((X_train, y_train), (X_test, y_test)); standardize:
    (x - MNIST_MEAN) / MNIST_STD, else pixels in [0, 1]."""
    (X, y), (Xt, yt) = mnist(flatten=False, data_dir=data_dir)
    if standardize:
        for A in (X, Xt):
            A -= np.float32(MNIST_MEAN)
            A /= np.float32(MNIST_STD)
    return (X, y), (Xt, yt)


def shifts(recipe: Recipe):
    """The recipe's augmentation, random shifts of up to recipe.shift pixels (None without);
    shifted-in pixels take the background's value (0, or its standardized value)."""
    if not recipe.shift:
        return None
    background = -MNIST_MEAN / MNIST_STD if recipe.standardize else 0.0
    return RandomCrop(28, padding=recipe.shift, fill=background)


def train_epoch(model, loader, optimizer) -> float:
    """One epoch of Adam steps on softmax cross-entropy; the epoch's mean loss."""
    model.train()
    total, n = 0.0, 0
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        n += len(yb)
    return total / n


def train(model, train_data, test_data, recipe: Recipe, eval_every: int = 1,
          name: str = "model", log=print) -> Record:
    """Train the parameters that require grad as `recipe` says (Adam, its lr decayed after
    each epoch, batches shifted at random when it says so); the test accuracy every
    `eval_every` epochs and after the last."""
    (X, y), (Xt, yt) = train_data, test_data
    optimizer = Adam(trainable_parameters(model), lr=recipe.lr)
    schedule = ExponentialLR(optimizer, gamma=recipe.lr_decay)
    loader = DataLoader((X, y), batch_size=recipe.batch_size, shuffle=True, transform=shifts(recipe))
    record = Record(name)
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        t0 = time.perf_counter()
        loss = train_epoch(model, loader, optimizer)
        schedule.step()
        row = {"epoch": epoch, "loss": loss, "seconds": time.perf_counter() - t0}
        if epoch % eval_every == 0 or epoch == recipe.epochs:
            row["test_accuracy"] = accuracy(yt, predict(model, Xt, batch_size=EVAL_BATCH))
            log(f"{name} epoch {epoch:2d}/{recipe.epochs}  loss {row['loss']:.4f}  "
                f"test accuracy {row['test_accuracy']:.4f}  ({row['seconds']:.1f} s)")
        record.epochs.append(row)
    record.test_accuracy = record.epochs[-1]["test_accuracy"] if record.epochs else float("nan")
    record.seconds = time.perf_counter() - start
    return record


def train_recipe(name: str, seed: int = 0, epochs: int | None = None, data_dir=None,
                 log=print) -> Record:
    """Train one of RECIPES on the 60,000 training digits; test on the 10,000 others."""
    if name not in RECIPES:
        raise KeyError(f"train_recipe: unknown recipe {name!r}; choose from {sorted(RECIPES)}")
    recipe = RECIPES[name]
    backend.manual_seed(seed)
    model = recipe.build()
    train_data, test_data = digits(recipe.standardize, data_dir)
    if epochs is not None:
        recipe = replace(recipe, epochs=epochs)
    return train(model, train_data, test_data, recipe, name=name, log=log)


# ---- transfer learning: digits 0-4 -> digits 5-9 ------------------------------------------
def _few(y: np.ndarray, classes, per_class: int, rng) -> np.ndarray:
    """Indices of `per_class` random examples of each class."""
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False)
                           for c in classes])


def transfer_digits(per_class: int = 10, backbone_epochs: int = 3, head_epochs: int = 100,
                    head_lr: float = 3e-3, seed: int = 0, data_dir=None,
                    n_source: int | None = None, log=print) -> dict:
    """The course's transfer-learning recipe on MNIST: a network trained on the digits 0-4
    reused for the digits 5-9, of which only `per_class` examples each are labelled.

    1. Train LeNet-5 (ReLU, max pooling, a 5-way softmax) on the digits 0-4.
    2. For 5-9, build the same network (its softmax layer, classifier.5, is new) and load
       the trained weights into it with a partial state dict (strict=False: every key but
       the softmax layer's).
    3. Freeze (requires_grad False) and train on the few labelled 5-9 examples either
       'softmax': everything but the new softmax layer (the course's choice for very little
       data), or 'classifier': only the convolutions (the feature extractor), fine-tuning
       the two loaded fully connected layers with the new softmax.
    4. Train the same network from scratch on the same examples, for comparison, and check
       that not one frozen weight changed.

    Each 5-9 network takes head_epochs full-batch Adam steps (lr head_lr); the accuracies are
    on the 5-9 (and 0-4) test digits. n_source limits the 0-4 training set (a quick run).
    """
    rng = np.random.default_rng(seed)
    backend.manual_seed(seed)
    (X, y), (Xt, yt) = digits(standardize=True, data_dir=data_dir)
    low, low_t = y < 5, yt < 5
    Xs, ys = X[low], y[low]
    if n_source is not None:
        keep = rng.choice(len(ys), n_source, replace=False)
        Xs, ys = Xs[keep], ys[keep]
    build = lambda: LeNet5(activation="relu", pooling="max", num_classes=5, input_size=28)  # noqa: E731

    source = build()
    src = train(source, (Xs, ys), (Xt[low_t], yt[low_t]),
                Recipe(build, epochs=backbone_epochs, batch_size=64), name="digits 0-4", log=log)
    backbone = {k: v for k, v in source.state_dict().items() if not k.startswith("classifier.5.")}

    few = _few(y, range(5, 10), per_class, rng)
    new_task = (X[few], y[few] - 5), (Xt[~low_t], yt[~low_t] - 5)
    head = Recipe(build, epochs=head_epochs, batch_size=len(few), lr=head_lr)
    out = {"per_class": per_class, "labelled_examples": int(len(few)),
           "source_test_accuracy_0_4": src.test_accuracy}
    for trained in ("softmax", "classifier"):
        out[trained] = _fine_tune(build(), backbone, trained, new_task, head, log)
    backend.manual_seed(seed)
    scratch = train(build(), *new_task, head, eval_every=head_epochs, name="5-9 from scratch", log=log)
    out["scratch_test_accuracy_5_9"] = scratch.test_accuracy
    out["total_parameters"] = source.num_parameters()
    return out


def _fine_tune(target, backbone: dict, trained: str, new_task, head: Recipe, log) -> dict:
    """Load `backbone` into `target`, train only its softmax layer ('softmax') or its whole
    classifier ('classifier') on new_task; its test accuracy and what stayed frozen."""
    loaded = target.load_state_dict(backbone, strict=False)
    freeze(target)
    unfreeze(target.classifier[5] if trained == "softmax" else target.classifier)
    learning = {id(p) for p in trainable_parameters(target)}
    frozen = {name: p.data.copy() for name, p in target.named_parameters() if id(p) not in learning}
    run = train(target, *new_task, head, eval_every=head.epochs, name=f"5-9, {trained} trained", log=log)
    params = dict(target.named_parameters())
    return {
        "test_accuracy_5_9": run.test_accuracy,
        "trainable_parameters": target.num_parameters(trainable_only=True),
        "frozen_parameters": int(sum(v.size for v in frozen.values())),
        "frozen_weights_unchanged": all(np.array_equal(v, params[k].data) for k, v in frozen.items()),
        "missing_keys": loaded.missing_keys, "unexpected_keys": loaded.unexpected_keys,
    }
