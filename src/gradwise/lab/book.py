"""What the book experiments share: MNIST as the book loads it, the book's MultiLayerNet
built from gradwise layers, its weight scales and its training loops.

"Deep Learning from Scratch" (Koki Saitoh) trains every chapter-6 network the same way:
mini-batches drawn from MNIST pixels scaled to [0, 1], a plain update rule, the loss after
each step recorded and, once per epoch, the accuracy on the training and the test images.
Here that loop is the one a PyTorch user writes (a DataLoader, forward, cross_entropy,
zero_grad, backward, step); the book draws each mini-batch independently
(np.random.choice(train_size, batch_size), with replacement), we draw epochs of shuffled
batches from gradwise's generator, so every example is seen once per epoch.

The book's networks compute in float64 (its weights are np.random.randn draws); ours in
gradwise's default float32. Its numbers are read from its figures and text (the book prints
few), so the experiments compare shapes of results: which curve is lowest, which gap is
narrower, what accuracy is reached, each with the tolerance the figure supports.
"""
from __future__ import annotations

import functools
import math

from .. import functional as F
from .. import nn
from ..data import DataLoader
from ..datasets import load_mnist
from ..train import predict
from ..train.metrics import accuracy

SOURCE = "Deep Learning from Scratch"
MNIST_FILES = ("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz",
               "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
EVAL_BATCH = 2000      # images per forward pass when measuring accuracy


def mnist(n_train: int | None = None, n_test: int | None = None, flatten: bool = True,
          data_dir=None):
    """((X, y), (X_test, y_test)): pixels in [0, 1] as float32, labels int64; the first
    n_train training and n_test test images when given, as the book cuts x_train[:300].
    data_dir: a folder holding mnist/ (default: as gradwise.datasets.load_mnist looks)."""
    (X, y), (Xt, yt) = load_mnist(normalize=True, flatten=flatten, data_dir=data_dir)
    return (X[:n_train], y[:n_train]), (Xt[:n_test], yt[:n_test])


def weight_scale(weight_init_std, n_prev: int) -> float:
    """The book's weight_init_std: 'relu'/'he' -> He, sqrt(2 / n_prev); 'sigmoid'/'xavier'
    -> Xavier as the book (and the course) define it, sqrt(1 / n_prev); a number -> itself.

    (Glorot & Bengio's own Xavier is sqrt(2 / (n_prev + n)), equal to the book's when the
    layers have the same width; see gradwise.nn.init.)
    """
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key in ("relu", "he"):
            return math.sqrt(2.0 / n_prev)
        if key in ("sigmoid", "xavier"):
            return math.sqrt(1.0 / n_prev)
        raise ValueError(f"weight_init_std must be 'relu'/'he', 'sigmoid'/'xavier' or a number, "
                         f"got {weight_init_std!r}")
    std = float(weight_init_std)
    if not std > 0:
        raise ValueError(f"weight_init_std must be positive, got {weight_init_std!r}")
    return std


class BookDropout(nn.Module):
    """The book's dropout (and Hinton et al. 2012's): in training each unit is zeroed with
    probability p and the others pass unscaled; at test time every unit is scaled by 1 - p.

    That is gradwise's nn.Dropout (inverted, as PyTorch's: kept units scaled by 1 / (1 - p)
    in training, identity at test time) followed by a factor 1 - p in both modes. The
    expected activations at test time are the same; what differs is training: the signal
    through L dropout layers is (1 - p)^L of the inverted form's (0.26 for p 0.2 after six),
    and with it the gradients, so at the same learning rate the book's network learns more
    slowly (the overfitting experiment shows both).
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"BookDropout: p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, A):
        return F.dropout(A, self.p, self.training) * (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


BOOK_BN_EPS = 1e-6   # the book's BatchNormalization adds 10e-7 to the variance (PyTorch: 1e-5)


class BookBatchNorm1d(nn.BatchNorm1d):
    """The book's BatchNormalization (common/layers.py) as a gradwise BatchNorm1d.

    It differs from PyTorch's in its test-time statistics: the running mean and the running
    variance both start at 0 (PyTorch's variance at 1), and each training step averages in
    the batch's own variance, np.mean(xc**2), not the unbiased one:

        running_mean = 0.9 running_mean + 0.1 mu
        running_var  = 0.9 running_var  + 0.1 var

    (the book's momentum 0.9 is gradwise's and PyTorch's 0.1), and eps is 1e-6. A running
    variance that starts at 0 is reached after a few steps by the batches' (of the order of
    W's scale squared), while one that starts at 1 dominates it for tens of steps: at a weight
    scale of 0.002 the test-time outputs stay squashed near 0 and the accuracy near chance
    during the first epochs. Training-time outputs and gradients are the same as BatchNorm1d's.
    """

    unbiased_running_var = False

    def __init__(self, num_features: int):
        super().__init__(num_features, eps=BOOK_BN_EPS, momentum=0.1)
        self.running_var.data[...] = 0.0


def multi_layer_net(hidden_sizes, activation: str = "relu", weight_init_std="relu",
                    batch_norm: bool = False, dropout: float = 0.0, dropout_form: str = "book",
                    input_size: int = 784, output_size: int = 10) -> nn.Sequential:
    """The book's MultiLayerNet (and MultiLayerNetExtend with batch_norm / dropout):

        [Linear -> (BookBatchNorm1d) -> activation -> (Dropout)] per hidden layer -> Linear

    returning the scores (the softmax is in F.cross_entropy). Every W, the last layer's too,
    is weight_scale(weight_init_std, n_prev) * randn(n, n_prev) from gradwise's generator;
    biases start at zero. Batch norm is the book's (BookBatchNorm1d: its epsilon, 1e-6, and
    its running averages, starting at 0). dropout_form 'book' is the book's dropout
    (BookDropout), 'inverted' gradwise's nn.Dropout.
    """
    if dropout_form not in ("book", "inverted"):
        raise ValueError(f"multi_layer_net: dropout_form must be 'book' or 'inverted', got {dropout_form!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"multi_layer_net: activation must be one of {sorted(ACTIVATIONS)}, "
                         f"got {activation!r}")
    sizes = [input_size, *hidden_sizes, output_size]
    layers = []
    for l, (n_prev, n) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        std = weight_scale(weight_init_std, n_prev)
        layers.append(nn.Linear(n_prev, n, init=functools.partial(nn.init.normal_, std=std)))
        if l < len(sizes) - 1:
            if batch_norm:
                layers.append(BookBatchNorm1d(n))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(BookDropout(dropout) if dropout_form == "book" else nn.Dropout(dropout))
    return nn.Sequential(*layers)


def batches(X, y, batch_size: int, iterations: int):
    """`iterations` mini-batches (X, y) as Tensors: epochs of shuffled batches of the data,
    the last partial batch of each epoch dropped so every step sees batch_size examples."""
    loader = DataLoader((X, y), batch_size=min(batch_size, len(y)), shuffle=True, drop_last=True)
    done = 0
    while True:
        for Xb, yb in loader:
            if done == iterations:
                return
            done += 1
            yield Xb, yb


def train_side_by_side(nets: dict, X, y, batch_size: int, iterations: int, progress,
                       desc: str | None = None) -> dict:
    """Train several networks on the very same mini-batches, as the book's comparisons do.

    nets: {name: (model, optimizer)}. Each iteration every network takes one step on the
    batch. Returns {name: [loss of each batch, before its step]} (the book records the loss
    just after the step; over 2,000 steps the two curves are indistinguishable).
    """
    losses = {name: [] for name in nets}
    for Xb, yb in progress(batches(X, y, batch_size, iterations), total=iterations, desc=desc):
        for name, (model, opt) in nets.items():
            loss = F.cross_entropy(model(Xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    return losses


def train_epochs(nets: dict, X, y, epochs: int, batch_size: int, evaluate: dict, progress,
                 desc: str | None = None) -> dict:
    """Train networks side by side for `epochs` epochs of shuffled mini-batches (the same
    batches for all), and after each epoch measure their accuracy, in eval mode, on each
    data set of `evaluate` ({"train": (X, y), "test": (X_t, y_t)}), as the book's Trainer
    does.

    nets: {name: (model, optimizer)}. Returns {name: {set: [accuracy after each epoch]}}.
    """
    curves = {name: {s: [] for s in evaluate} for name in nets}
    loader = DataLoader((X, y), batch_size=min(batch_size, len(y)), shuffle=True, drop_last=True)
    for _ in progress(range(epochs), desc=desc):
        for Xb, yb in loader:
            for model, opt in nets.values():
                loss = F.cross_entropy(model(Xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
        for name, (model, _) in nets.items():
            for s, (Xs, ys) in evaluate.items():
                curves[name][s].append(accuracy(ys, predict(model, Xs, batch_size=EVAL_BATCH)))
    return curves


def decay_weights_only(model, lambd: float) -> list[dict]:
    """Parameter groups for the book's weight decay: the loss gains 0.5 lambd sum ||W||^2
    over the weight matrices (not the biases, nor batch norm's gamma and beta), so each
    step adds lambd W to dW: SGD's weight_decay on the weights' group alone."""
    weights = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    return [{"params": weights, "weight_decay": lambd}, {"params": others, "weight_decay": 0.0}]
