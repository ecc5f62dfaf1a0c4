"""The CNN chapter's results on real MNIST, as plain training loops: the book's SimpleConvNet,
LeNet-5, and transfer learning from digits 0-4 to digits 5-9.

    python -m gradwise.models.mnist simple_convnet      # the book's net and training
    python -m gradwise.models.mnist lenet5              # the classic LeNet-5 (tanh, avg-pool)
    python -m gradwise.models.mnist lenet5_shift        # ... on randomly shifted digits
    python -m gradwise.models.mnist lenet5_relu         # ReLU and max pooling
    python -m gradwise.models.mnist transfer            # digits 0-4 -> 5-9, 10 labels each

Each recipe is the loop a PyTorch user writes (DataLoader, forward, cross_entropy, zero_grad,
backward, Adam step), evaluated on the 10,000 test digits after every epoch. The accuracy
reported is the last epoch's, for an epoch count fixed in advance (never the best epoch on
the test set). The files are looked up as gradwise.datasets.load_mnist does (GRADWISE_DATA,
then the cache directory, then a verified download).
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import backend
from .. import functional as F
from ..autograd import no_grad
from ..data import DataLoader, RandomCrop
from ..datasets import load_mnist
from ..io import atomic_write, prepare_output
from ..nn import Module
from ..optim import Adam
from ..optim.lr_scheduler import ExponentialLR
from ..tensor import Tensor
from .convnets import LeNet5, SimpleConvNet
from .transfer import freeze, trainable_parameters, unfreeze

# the training set's pixel mean and standard deviation (pixels in [0, 1])
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


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
class Run:
    """The record of one training run."""

    name: str
    epochs: list = field(default_factory=list)   # one dict per epoch
    test_accuracy: float = float("nan")          # after the last epoch
    seconds: float = 0.0                          # training and evaluation, all epochs

    def to_dict(self) -> dict:
        return asdict(self)


def digits(standardize: bool = False, data_dir=None):
    """MNIST as NCHW float32 images: ((X_train, y_train), (X_test, y_test))."""
    (X, y), (Xt, yt) = load_mnist(normalize=True, flatten=False, data_dir=data_dir)
    if standardize:
        for A in (X, Xt):
            A -= np.float32(MNIST_MEAN)
            A /= np.float32(MNIST_STD)
    return (X, y), (Xt, yt)


def accuracy(model: Module, X: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """The fraction of examples whose highest score is the label (evaluation mode, no graph)."""
    was_training = model.training
    model.eval()
    correct = 0
    with no_grad():
        for i in range(0, len(X), batch_size):
            scores = model(Tensor(X[i:i + batch_size])).data
            correct += int((scores.argmax(axis=1) == y[i:i + batch_size]).sum())
    model.train(was_training)
    return correct / len(X)


def train(model: Module, train_data, test_data, epochs: int, batch_size: int = 100,
          lr: float = 1e-3, lr_decay: float = 1.0, params=None, eval_every: int = 1,
          transform=None, name: str = "model", log=print) -> Run:
    """Adam on softmax cross-entropy, the test accuracy every `eval_every` epochs and after
    the last. params: what to train (default: every parameter that requires grad);
    transform: the DataLoader's batch transform (augmentation)."""
    (X, y), (Xt, yt) = train_data, test_data
    params = trainable_parameters(model) if params is None else list(params)
    optimizer = Adam(params, lr=lr)
    schedule = ExponentialLR(optimizer, gamma=lr_decay)
    loader = DataLoader((X, y), batch_size=batch_size, shuffle=True, transform=transform)
    run = Run(name)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        t0, total, n = time.perf_counter(), 0.0, 0
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            n += len(yb)
        schedule.step()
        record = {"epoch": epoch, "loss": total / n, "seconds": time.perf_counter() - t0}
        if epoch % eval_every == 0 or epoch == epochs:
            record["test_accuracy"] = accuracy(model, Xt, yt)
            log(f"{name} epoch {epoch:2d}/{epochs}  loss {record['loss']:.4f}  "
                f"test accuracy {record['test_accuracy']:.4f}  ({record['seconds']:.1f} s)")
        run.epochs.append(record)
    run.test_accuracy = run.epochs[-1]["test_accuracy"] if run.epochs else float("nan")
    run.seconds = time.perf_counter() - start
    return run


def train_recipe(name: str, seed: int = 0, epochs: int | None = None, data_dir=None,
                 log=print) -> Run:
    """Train one of RECIPES on the 60,000 training digits; test on the 10,000 others."""
    if name not in RECIPES:
        raise KeyError(f"train_recipe: unknown recipe {name!r}; choose from {sorted(RECIPES)}")
    r = RECIPES[name]
    backend.manual_seed(seed)
    model = r.build()
    train_data, test_data = digits(r.standardize, data_dir)
    # shifted-in pixels take the background's value (0, or its standardized value)
    background = -MNIST_MEAN / MNIST_STD if r.standardize else 0.0
    shift = RandomCrop(28, padding=r.shift, fill=background) if r.shift else None
    return train(model, train_data, test_data, r.epochs if epochs is None else epochs,
                 r.batch_size, r.lr, r.lr_decay, transform=shift, name=name, log=log)


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
    src = train(source, (Xs, ys), (Xt[low_t], yt[low_t]), backbone_epochs, batch_size=64,
                name="digits 0-4", log=log)
    backbone = {k: v for k, v in source.state_dict().items() if not k.startswith("classifier.5.")}

    few = _few(y, range(5, 10), per_class, rng)
    new_task = (X[few], y[few] - 5), (Xt[~low_t], yt[~low_t] - 5)
    out = {"per_class": per_class, "labelled_examples": int(len(few)),
           "source_test_accuracy_0_4": src.test_accuracy}
    for trained in ("softmax", "classifier"):
        target = build()
        loaded = target.load_state_dict(backbone, strict=False)
        freeze(target)
        unfreeze(target.classifier[5] if trained == "softmax" else target.classifier)
        learning = {id(p) for p in trainable_parameters(target)}
        frozen = {name: p.data.copy() for name, p in target.named_parameters() if id(p) not in learning}
        run = train(target, *new_task, head_epochs, batch_size=len(few), lr=head_lr,
                    eval_every=head_epochs, name=f"5-9, {trained} trained", log=log)
        params = dict(target.named_parameters())
        out[trained] = {
            "test_accuracy_5_9": run.test_accuracy,
            "trainable_parameters": target.num_parameters(trainable_only=True),
            "frozen_parameters": int(sum(v.size for v in frozen.values())),
            "frozen_weights_unchanged": all(np.array_equal(v, params[k].data) for k, v in frozen.items()),
            "missing_keys": loaded.missing_keys, "unexpected_keys": loaded.unexpected_keys,
        }
    backend.manual_seed(seed)
    scratch = train(build(), *new_task, head_epochs, batch_size=len(few), lr=head_lr,
                    eval_every=head_epochs, name="5-9 from scratch", log=log)
    out["scratch_test_accuracy_5_9"] = scratch.test_accuracy
    out["total_parameters"] = source.num_parameters()
    return out


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m gradwise.models.mnist`."""
    ap = argparse.ArgumentParser(prog="python -m gradwise.models.mnist",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("recipe", choices=sorted(RECIPES) + ["transfer"])
    ap.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-class", type=int, default=10, help="transfer: labels per digit 5-9")
    ap.add_argument("--json", default=None, help="also write the record to this file")
    return ap


def main(argv=None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.json:   # before the training: a bad path fails now, not after it
        try:
            prepare_output(args.json)
        except OSError as e:
            ap.error(f"--json: {e}")
    if args.recipe == "transfer":
        out = transfer_digits(args.per_class, seed=args.seed)
    else:
        out = train_recipe(args.recipe, args.seed, args.epochs).to_dict()
    print(json.dumps(out, indent=2))
    if args.json:
        text = json.dumps(out, indent=2) + "\n"
        atomic_write(args.json, lambda f: f.write(text.encode()), parents=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
