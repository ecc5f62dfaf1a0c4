"""mlp_core: MLP 784-100-100-10 on the autograd core (no nn, no optim), ReLU, softmax
cross-entropy, plain SGD (lr 0.1), batch 100, one epoch over 60,000 synthetic examples, in
three systems (the same network written with nn and optim is the `mlp` workload, workloads.py):

  gradwise  the public API: gw.tensor, F.linear, F.relu, F.cross_entropy, loss.backward(),
            the update under gw.no_grad() on p.data with p.grad, grads set to None
  pytorch   torch 2.13 CPU, torch.set_num_threads(2), torch.tensor, torch.nn.functional.
            linear/relu/cross_entropy, autograd, manual SGD under torch.no_grad()
  numpy     hand-written forward and backward: the book's Affine / Relu / SoftmaxWithLoss
            layers, no framework (the floor for anything built on NumPy)

All three start from the same float32 weights (PyTorch's default nn.Linear init,
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn once with NumPy) and see the same data in the same
order (no shuffling), so their loss curves agree up to float32 rounding. Both frameworks
make each batch's tensors with their copying constructor (gw.tensor, torch.tensor), as a
training loop that owns its batches does; the NumPy baseline reads slices of the data.
"""
from __future__ import annotations

import itertools

import numpy as np

NAME = "mlp_core"
DESCRIPTION = "MLP 784-100-100-10 on the autograd core, ReLU, softmax cross-entropy, SGD lr 0.1, batch 100, 1 epoch"
SIZES = (784, 100, 100, 10)
TARGETS = {"gradwise": {"max_ratio": 0.9, "max_rss_mb": 300}}


def config(quick: bool = False) -> dict:
    return {"n": 10_000 if quick else 60_000, "batch": 100, "lr": 0.1, "sizes": list(SIZES),
            "seed": 0, "warmup_batches": 20}


def make_data(cfg):
    """Inputs uniform in [0, 1) like pixel intensities, labels uniform in 0..9.

    Drawn directly in float32: a float64 draw would double the peak memory for a moment.
    """
    rng = np.random.default_rng(cfg["seed"])
    X = rng.random((cfg["n"], cfg["sizes"][0]), dtype=np.float32)
    y = rng.integers(0, cfg["sizes"][-1], size=cfg["n"], dtype=np.int64)
    return X, y


def init_params(cfg):
    """[W1, b1, W2, b2, W3, b3], W of shape (out, in) as in PyTorch, all float32."""
    rng = np.random.default_rng(cfg["seed"] + 1)
    params = []
    sizes = cfg["sizes"]
    for n_in, n_out in itertools.pairwise(sizes):
        bound = 1.0 / np.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, n_out).astype(np.float32))
    return params


def sanity(results: dict) -> list:
    """Same init and data: the first losses agree to float32 rounding, the final ones closely."""
    from _harness import final_loss

    problems = []
    firsts = {s: r["losses"][0] for s, r in results.items()}
    finals = {s: final_loss(r["losses"]) for s, r in results.items()}
    if max(firsts.values()) - min(firsts.values()) > 1e-4:
        problems.append(f"first-batch losses differ: {firsts}")
    if max(finals.values()) - min(finals.values()) > 0.02 * min(finals.values()):
        problems.append(f"final losses differ by more than 2%: {finals}")
    if not all(np.isfinite(v) for v in finals.values()):
        problems.append(f"non-finite loss: {finals}")
    return problems


# ---- gradwise ---------------------------------------------------------------------------
class Gradwise:
    def __init__(self, cfg, X, y, params):
        import gradwise as gw

        self.gw = gw
        self.X, self.y, self.batch, self.lr = X, y, cfg["batch"], cfg["lr"]
        self.params = [gw.tensor(p, requires_grad=True) for p in params]

    def epoch(self, n_batches):
        gw, F = self.gw, self.gw.functional
        W1, b1, W2, b2, W3, b3 = params = self.params
        X, y, bs, lr = self.X, self.y, self.batch, self.lr
        losses = []
        for i in range(n_batches):
            xb = gw.tensor(X[i * bs:(i + 1) * bs])
            yb = gw.tensor(y[i * bs:(i + 1) * bs])
            h = F.relu(F.linear(xb, W1, b1))
            h = F.relu(F.linear(h, W2, b2))
            loss = F.cross_entropy(F.linear(h, W3, b3), yb)
            loss.backward()
            with gw.no_grad():
                for p in params:
                    p.data -= lr * p.grad
                    p.grad = None
            losses.append(loss.item())
        return losses

    def info(self):
        return {"dtype": str(self.params[0].dtype)}


# ---- PyTorch ----------------------------------------------------------------------------
class PyTorch:
    def __init__(self, cfg, X, y, params):
        import torch

        torch.set_num_threads(2)
        self.torch = torch
        self.X, self.y = X, y
        self.batch, self.lr = cfg["batch"], cfg["lr"]
        self.params = [torch.tensor(p, requires_grad=True) for p in params]

    def epoch(self, n_batches):
        torch = self.torch
        F = torch.nn.functional
        W1, b1, W2, b2, W3, b3 = params = self.params
        X, y, bs, lr = self.X, self.y, self.batch, self.lr
        losses = []
        for i in range(n_batches):
            xb = torch.tensor(X[i * bs:(i + 1) * bs])
            yb = torch.tensor(y[i * bs:(i + 1) * bs])
            h = F.relu(F.linear(xb, W1, b1))
            h = F.relu(F.linear(h, W2, b2))
            loss = F.cross_entropy(F.linear(h, W3, b3), yb)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-lr)
                    p.grad = None
            losses.append(loss.item())
        return losses

    def info(self):
        torch = self.torch
        return {"dtype": str(self.params[0].dtype), "torch_threads": torch.get_num_threads(),
                "torch_blas": "MKL" if torch.backends.mkl.is_available() else "other",
                "torch_mkldnn": torch.backends.mkldnn.is_available()}


# ---- hand-written NumPy (the book's layers) ---------------------------------------------
class Affine:
    """out = x W + b with W of shape (in, out), as in the book; dx = dout W^T, dW = x^T dout.

    The input layer skips dx (need_dx=False), as gradwise and PyTorch do for data.
    """

    def __init__(self, W, b, need_dx=True):
        self.W, self.b, self.need_dx = W, b, need_dx

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T if self.need_dx else None


class Relu:
    def forward(self, x):
        self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * self.mask


class SoftmaxWithLoss:
    """Softmax then cross-entropy on integer labels t; dx = (softmax(x) - onehot(t)) / m."""

    def forward(self, x, t):
        self.t = t
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        m = len(t)
        return -np.log(self.y[np.arange(m), t] + 1e-7).sum() / m

    def backward(self):
        m = len(self.t)
        dx = self.y.copy()
        dx[np.arange(m), self.t] -= 1
        return dx / m


class NumPy:
    def __init__(self, cfg, X, y, params):
        self.X, self.y, self.batch, self.lr = X, y, cfg["batch"], cfg["lr"]
        W1, b1, W2, b2, W3, b3 = (p.copy() for p in params)
        self.layers = [Affine(W1.T.copy(), b1, need_dx=False), Relu(), Affine(W2.T.copy(), b2), Relu(),
                       Affine(W3.T.copy(), b3)]
        self.last = SoftmaxWithLoss()

    def epoch(self, n_batches):
        X, y, bs, lr = self.X, self.y, self.batch, self.lr
        affines = [layer for layer in self.layers if isinstance(layer, Affine)]
        losses = []
        for i in range(n_batches):
            h = X[i * bs:(i + 1) * bs]
            for layer in self.layers:
                h = layer.forward(h)
            losses.append(float(self.last.forward(h, y[i * bs:(i + 1) * bs])))
            d = self.last.backward()
            for layer in reversed(self.layers):
                d = layer.backward(d)
            for a in affines:
                a.W -= lr * a.dW
                a.b -= lr * a.db
        return losses

    def info(self):
        return {"dtype": str(self.layers[0].W.dtype)}


SYSTEMS = {"gradwise": Gradwise, "pytorch": PyTorch, "numpy": NumPy}
