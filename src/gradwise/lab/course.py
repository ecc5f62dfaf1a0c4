"""What the course experiments share: the course's seeded initializations, its full-batch
training loop, its predict (a threshold on the sigmoid), and the conversion of its data layout.

The course (deeplearning.ai's Deep Learning Specialization) draws its weights with NumPy's
legacy generator: np.random.seed(s), then W[l] = np.random.randn(n[l], n[l-1]) * scale for
l = 1..L, b[l] = zeros. `course_mlp` builds the same network from gradwise layers and copies
exactly those draws into it, so that our cost curve is the published one, digit for digit.

Layouts: the course keeps examples in columns, X (n_x, m), Y (1, m); gradwise is batch
first, X (m, n_x). A Linear layer keeps W as (n[l], n[l-1]) in both, so the course's
Z = W X + b is our Z^T = X W^T + b with the very same W. Experiments load data batch first
(gradwise.datasets) and never build the course layout at all.
"""
from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}

# How each course notebook scales its randn draws. Each is applied as the notebook writes it
# (a product or a quotient round differently in the last bit, and the curves are compared to
# 1e-9): draws * 0.01, draws / sqrt(n_prev), draws * sqrt(2 / n_prev), draws * 10.
INITS = {
    "zeros": None,                                                  # initialize_parameters_zeros
    "small": lambda W, n_prev: W * 0.01,                            # the "* 0.01" of course 1
    "xavier": lambda W, n_prev: W / np.sqrt(n_prev),                # initialize_parameters_deep (app)
    "he": lambda W, n_prev: W * np.sqrt(2.0 / n_prev),              # initialize_parameters_he
    "large": lambda W, n_prev: W * 10,                              # initialize_parameters_random
}


def course_draws(layer_dims, init: str, seed: int):
    """The course's initialize_parameters: [(W1, b1), ..., (WL, bL)] as float64 arrays.

    np.random.seed(seed) and W[l] = randn(n[l], n[l-1]) scaled by `init`, in layer order;
    b[l] = 0. Drawn from a private RandomState(seed): the same numbers, NumPy's global
    state untouched.
    """
    if init not in INITS:
        raise ValueError(f"course_draws: init must be one of {sorted(INITS)}, got {init!r}")
    if len(layer_dims) < 2 or any(int(n) < 1 for n in layer_dims):
        raise ValueError(f"course_draws: layer_dims must list at least two positive sizes, "
                         f"got {layer_dims}")
    rs = np.random.RandomState(seed)
    params = []
    for n_prev, n in zip(layer_dims[:-1], layer_dims[1:]):
        if init == "zeros":
            W = np.zeros((n, n_prev))
        else:
            W = INITS[init](rs.randn(n, n_prev), n_prev)
        params.append((W, np.zeros(n)))
    return params


def course_mlp(layer_dims, hidden: str = "relu", init: str = "small", seed: int = 1) -> nn.Sequential:
    """LINEAR -> hidden -> ... -> LINEAR, float64, with the course's seeded weights.

    The network returns the logits Z[L]; the course's final sigmoid is part of the loss
    (F.binary_cross_entropy_with_logits), whose fused backward dZ = (A - Y) / m is the
    course's own dZ[L] = A[L] - Y.
    """
    if hidden not in ACTIVATIONS:
        raise ValueError(f"course_mlp: hidden must be one of {sorted(ACTIVATIONS)}, got {hidden!r}")
    layers = []
    for l, (n_prev, n) in enumerate(zip(layer_dims[:-1], layer_dims[1:]), start=1):
        layers.append(nn.Linear(n_prev, n, init="zeros", dtype=np.float64))
        if l < len(layer_dims) - 1:
            layers.append(ACTIVATIONS[hidden]())
    model = nn.Sequential(*layers)
    load_draws(model, course_draws(layer_dims, init, seed))
    return model


def linear_layers(model) -> list:
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def load_draws(model, params) -> None:
    """Copy [(W, b), ...] into the model's Linear layers, in order."""
    layers = linear_layers(model)
    if len(layers) != len(params):
        raise ValueError(f"load_draws: the model has {len(layers)} Linear layers, got "
                         f"{len(params)} (W, b) pairs")
    with no_grad():
        for layer, (W, b) in zip(layers, params):
            if layer.W.shape != W.shape:
                raise ValueError(f"load_draws: {layer._name()} has W {layer.W.shape}, got {W.shape}")
            layer.W.data[...] = W
            layer.b.data[...] = b


def as_inputs(X) -> Tensor:
    """Batch-first inputs as a float64 Tensor (the course computes in float64)."""
    return Tensor(np.ascontiguousarray(X, dtype=np.float64))


def as_targets(y) -> np.ndarray:
    """Labels (m,) as the (m, 1) float64 column a one-unit output is compared with."""
    return np.asarray(y, dtype=np.float64).reshape(-1, 1)


def course_cost(Z: Tensor, Y: np.ndarray, reduction: str = "mean") -> float:
    """The cost as the notebooks print it: from the probabilities A = sigmoid(Z),
    -(1/m) sum(Y log A + (1 - Y) log(1 - A)), NaN terms skipped (np.nansum);
    reduction='sum' leaves out the 1/m (the optimization notebook sums over mini-batches).

    It is inf when a probability rounds to exactly 0 or 1 against its label (the large
    initialization's first cost); the loss we train on, taken from the logits, stays finite.
    """
    with no_grad(), np.errstate(divide="ignore", invalid="ignore"):
        A = F.sigmoid(Z).data
        logprobs = -np.log(A) * Y - np.log(1 - A) * (1 - Y)
    total = float(np.nansum(logprobs))
    return total / Y.shape[0] if reduction == "mean" else total


def predict(model, X: Tensor) -> np.ndarray:
    """The course's predict: labels (m,), 1 where sigmoid(Z[L]) > 0.5, the model in eval mode.
    Its accuracy is train.metrics.accuracy(y, predict(model, X))."""
    with model.evaluating(), no_grad():
        A = F.sigmoid(model(X)).data
    return (A > 0.5).astype(np.int64).reshape(-1)


def train_full_batch(model, X: Tensor, Y: np.ndarray, optimizer, iterations: int, every: int,
                     progress, penalty=None, desc: str | None = None) -> dict:
    """Full-batch gradient descent as the course's model(): each iteration computes the cost
    on all m examples, backpropagates, and steps.

    The loss trained on is binary cross-entropy on the logits (plus `penalty(model)`, a
    scalar Tensor such as an L2 term, when given). Returns {iteration: cost} every `every`
    iterations and at the last one, the cost as the notebooks print it: from the
    probabilities (see course_cost), before that iteration's update. The two agree to
    ~1e-16 except where a sigmoid saturates: 1 - A then loses its digits in the notebook's
    form, and the notebook's printed cost with it.
    """
    costs = {}
    for i in progress(range(iterations), desc=desc):
        Z = model(X)
        loss = F.binary_cross_entropy_with_logits(Z, Y)
        extra = penalty(model) if penalty is not None else None
        if extra is not None:
            loss = loss + extra
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % every == 0 or i == iterations - 1:
            costs[i] = course_cost(Z, Y) + (extra.item() if extra is not None else 0.0)
    return costs
