"""The nine workloads of the speed goals, written as a user of each framework writes them, gradwise
against PyTorch in the same run:

    mlp            MLP 784-100-100-10 (ReLU), one training epoch of 60,000 examples   <= 0.85x
    mlp_wide       MLP 784-1024-1024-10, one training epoch of 60,000 examples        <= 1.1x
    convnet        SimpleConvNet (Conv2d(1,30,5), ReLU, MaxPool2d(2), Flatten,
                   Linear(4320,100), ReLU, Linear(100,10)), training on 10,000 images  <= 1.0x
    convnet_b32    the same at batch 32                                               <= 1.1x
    convnet_b256   the same at batch 256                                              <= 1.1x
    lenet5         LeNet-5 with ReLU and max pooling (Conv2d(1,6,5,padding=2), ReLU,
                   MaxPool2d(2), Conv2d(6,16,5), ReLU, MaxPool2d(2), Flatten,
                   Linear(400,120), ReLU, Linear(120,84), ReLU, Linear(84,10)),
                   training on 10,000 images                                          <= 1.1x
    infer_mlp      inference of the 784-100-100-10 MLP over 10,000 images             <= 1.0x
    infer_lenet5   inference of that LeNet-5 over 10,000 images                       <= 0.9x
    infer_convnet  inference of SimpleConvNet over 10,000 images                      <= 1.0x

Batch 100 unless the name says otherwise. The model is the framework's public layers in an
nn.Sequential (one function below builds it from either `gradwise.nn` or `torch.nn`); training
is `optim.SGD(model.parameters(), lr=0.1)` and the loop

    opt.zero_grad(); loss = F.cross_entropy(model(xb), yb); loss.backward(); opt.step()

with `loss.item()` kept per batch; inference is `model.eval()` and `model(xb)` per batch under
`gw.no_grad()` / `torch.no_grad()`, the outputs kept. Every batch is made with the framework's
copying constructor (`gw.tensor`, `torch.tensor`) from slices of the same NumPy arrays, in the
same order; neither framework's thread count is touched. Both start from the same float32
weights (PyTorch's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn once with NumPy and
loaded with `load_state_dict`), so their losses agree to float32 rounding (the sanity check).
The small MLP's inference also runs a third system, `numpy`: the same forward in plain NumPy
(class NumPy), the time that NumPy's BLAS alone allows, with no framework around it.

The data are synthetic and learnable: each example is noise plus one of 10 random templates
(its class), normalized to mean 0 and variance 1 (28 x 28 images; the MLPs see them flattened to
784).
"""
from __future__ import annotations

import functools
import math
import types

import numpy as np


# ---- the networks: `nn` is gradwise.nn or torch.nn (the same constructors) ----------------
def mlp(nn, hidden=100):
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, 10))


def convnet(nn):
    return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10))


def lenet5(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


ARCHS = {"mlp": mlp, "mlp_wide": functools.partial(mlp, hidden=1024), "convnet": convnet,
         "lenet5": lenet5}

# name: (network, training?, examples, examples with --quick, batch, goal, description)
WORKLOADS = {
    "mlp": ("mlp", True, 60_000, 10_000, 100, 0.85,
            "MLP 784-100-100-10 (ReLU), training, 1 epoch"),
    "mlp_wide": ("mlp_wide", True, 60_000, 5_000, 100, 1.1,
                 "MLP 784-1024-1024-10 (ReLU), training, 1 epoch"),
    "convnet": ("convnet", True, 10_000, 2_000, 100, 1.0,
                "SimpleConvNet (conv 30 5x5, ReLU, max-pool 2, FC 100, ReLU, FC 10), training"),
    "convnet_b32": ("convnet", True, 10_000, 2_000, 32, 1.1, "SimpleConvNet, training"),
    "convnet_b256": ("convnet", True, 10_000, 2_560, 256, 1.1,
                     "SimpleConvNet, training"),
    "lenet5": ("lenet5", True, 10_000, 2_000, 100, 1.1,
               ("LeNet-5 (ReLU, max pooling; conv 6 5x5 pad 2, conv 16 5x5, FC 120, 84, 10), "
                "training")),
    "infer_mlp": ("mlp", False, 10_000, 2_000, 100, 1.0,
                  "MLP 784-100-100-10, inference (eval, no_grad)"),
    "infer_lenet5": ("lenet5", False, 10_000, 2_000, 100, 0.9,
                     "LeNet-5 (ReLU, max pooling), inference (eval, no_grad)"),
    "infer_convnet": ("convnet", False, 10_000, 2_000, 100, 1.0,
                      "SimpleConvNet, inference (eval, no_grad)"),
}
NAMES = list(WORKLOADS)


def config(name: str, quick: bool = False, batch: int | None = None) -> dict:
    """The workload's sizes; `batch` runs it at another batch size (a search for cliffs),
    over min(its examples, max(1000, 100 batch)) examples."""
    arch, train, n, n_quick, table_batch, _, _ = WORKLOADS[name]
    n = n_quick if quick else n
    if batch is not None:
        n = min(n, max(1000, 100 * batch))
    return {"workload": name, "arch": arch, "train": train, "n": n,
            "batch": batch or table_batch, "lr": 0.1, "seed": 0, "warmup_batches": 10}


def make_data(cfg):
    """X float32: uniform noise plus 3 times the template of the example's class (10 random
    28 x 28 templates, uniform too), normalized to mean 0 and standard deviation 1 as a user
    normalizes MNIST: (noise + 3 template - 2) / sqrt(5/6). Every training workload's loss
    then falls from 2.3 to near 0 within its epoch at lr 0.1 (on the raw [0, 1) scale, or with
    a weaker template, LeNet-5's barely moves, or is still falling steeply at the end, where
    float32 rounding has moved the two systems' curves apart). (n, 1, 28, 28) for the CNNs,
    (n, 784) for the MLPs; made in chunks, so that no temporary as large as X raises the peak
    RSS."""
    rng = np.random.default_rng(cfg["seed"])
    templates = rng.random((10, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=cfg["n"], dtype=np.int64)
    X = rng.random((cfg["n"], 1, 28, 28), dtype=np.float32)
    for i in range(0, cfg["n"], 4096):
        X[i:i + 4096] += 3 * templates[y[i:i + 4096]] - 2
        X[i:i + 4096] *= np.float32(1 / math.sqrt(5 / 6))
    if cfg["arch"].startswith("mlp"):
        X = X.reshape(cfg["n"], 784)
    return X, y


class _Shapes:
    """Stands in for gradwise.nn / torch.nn: a network built from it is the list of its
    parameter shapes in registration order (weight, bias per layer), with no framework."""

    def Sequential(self, *layers):
        return [shape for layer in layers for shape in layer]

    def Linear(self, n_in, n_out):
        return [(n_out, n_in), (n_out,)]

    def Conv2d(self, c_in, c_out, k, padding=0):
        return [(c_out, c_in, k, k), (c_out,)]

    def __getattr__(self, name):  # ReLU, MaxPool2d, Flatten: no parameters
        return lambda *args, **kwargs: []


def init_params(cfg):
    """[W1, b1, W2, b2, ...]: PyTorch's default init drawn with NumPy, float32."""
    rng = np.random.default_rng(cfg["seed"] + 1)
    shapes = ARCHS[cfg["arch"]](_Shapes())
    params = []
    for w, b in zip(shapes[0::2], shapes[1::2]):
        bound = 1.0 / math.sqrt(math.prod(w[1:]))
        params.append(rng.uniform(-bound, bound, w).astype(np.float32))
        params.append(rng.uniform(-bound, bound, b).astype(np.float32))
    return params


def sanity(results: dict) -> list:
    """Same weights and batches: the first batch's loss agrees to float32 rounding, the mean
    of the last 10% of the batches to 2% (plus 0.001: a trained loss near 0 is all rounding)."""
    from _harness import final_loss

    problems = []
    firsts = {s: r["losses"][0] for s, r in results.items()}
    finals = {s: final_loss(r["losses"]) for s, r in results.items()}
    if max(firsts.values()) - min(firsts.values()) > 1e-3 * max(1.0, abs(min(firsts.values()))):
        problems.append(f"first-batch losses differ: {firsts}")
    if max(finals.values()) - min(finals.values()) > 0.02 * abs(min(finals.values())) + 1e-3:
        problems.append(f"final losses differ by more than 2%: {finals}")
    if not all(np.isfinite(v) for v in finals.values()):
        problems.append(f"non-finite loss: {finals}")
    return problems


def _batch_losses(outputs, y, batch):
    """Each inference batch's cross-entropy, from its logits (after the timed epoch)."""
    out = []
    for i, z in enumerate(outputs):
        z = np.asarray(z, dtype=np.float64)
        t = y[i * batch:i * batch + len(z)]
        zmax = z.max(axis=1)
        lse = zmax + np.log(np.exp(z - zmax[:, None]).sum(axis=1))
        out.append(float((lse - z[np.arange(len(z)), t]).mean()))
    return out


# ---- the two systems (the harness interface, see _harness.py) ------------------------------
class _System:
    """The loop a user of either framework writes; a subclass names the framework's pieces:
    `F` (its functional module), `tensor` (its copying constructor), `no_grad`, and loads the
    model's initial weights."""

    def __init__(self, cfg, X, y, nn):
        self.X, self.y, self.batch, self.training = X, y, cfg["batch"], cfg["train"]
        self.model = ARCHS[cfg["arch"]](nn)
        self.names = [k for k, _ in self.model.named_parameters()]
        self.lr = cfg["lr"]

    def epoch(self, n_batches):
        F, model, X, y, bs, tensor = self.F, self.model, self.X, self.y, self.batch, self.tensor
        if self.training:
            model.train()
            losses = []
            for i in range(n_batches):
                xb, yb = tensor(X[i * bs:(i + 1) * bs]), tensor(y[i * bs:(i + 1) * bs])
                self.opt.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                self.opt.step()
                losses.append(loss.item())
            return losses
        model.eval()
        with self.no_grad():
            return [model(tensor(X[i * bs:(i + 1) * bs])) for i in range(n_batches)]

    def values(self, result):
        return result if self.training else _batch_losses([o.numpy() for o in result], self.y,
                                                          self.batch)


class Gradwise(_System):
    def __init__(self, cfg, X, y, params):
        import gradwise as gw
        import gradwise.functional as F
        from gradwise import nn, optim

        super().__init__(cfg, X, y, nn)
        self.gw, self.F, self.tensor, self.no_grad = gw, F, gw.tensor, gw.no_grad
        self.model.load_state_dict(dict(zip(self.names, params, strict=True)))
        self.opt = optim.SGD(self.model.parameters(), lr=self.lr)

    def info(self):
        return {"dtype": str(next(self.model.parameters()).dtype),
                "gradwise_threads": self.gw.get_num_threads()}


class PyTorch(_System):
    def __init__(self, cfg, X, y, params):
        import torch
        import torch.nn.functional as F
        from torch import nn, optim

        super().__init__(cfg, X, y, nn)
        self.torch, self.F, self.tensor, self.no_grad = torch, F, torch.tensor, torch.no_grad
        self.model.load_state_dict({k: torch.from_numpy(a)
                                    for k, a in zip(self.names, params, strict=True)})
        self.opt = optim.SGD(self.model.parameters(), lr=self.lr)

    def info(self):
        torch = self.torch
        return {"dtype": str(next(self.model.parameters()).dtype),
                "torch_threads": torch.get_num_threads(),
                "torch_mkldnn": torch.backends.mkldnn.is_available()}


class NumPy:
    """An MLP's inference in plain NumPy, the floor under any framework on NumPy's BLAS: per
    batch the copy that `gw.tensor` and `torch.tensor` make, then per layer Z = X W^T + b in
    place and A = max(Z, 0) in place, with W^T stored contiguous: the layout in which NumPy's
    OpenBLAS ran the first layer's GEMM fastest on the AMD EPYC (200 us against 215-226 in the
    others on one thread, 285 against 316-334 on two). Nothing but the arithmetic: no graph,
    no checks, no modules."""

    def __init__(self, cfg, X, y, params):
        self.X, self.y, self.batch = X, y, cfg["batch"]
        self.layers = [(W.T.copy(), b.copy()) for W, b in zip(params[0::2], params[1::2])]

    def epoch(self, n_batches):
        X, bs, last, out = self.X, self.batch, len(self.layers) - 1, []
        for i in range(n_batches):
            A = X[i * bs:(i + 1) * bs].copy()
            for k, (W_T, b) in enumerate(self.layers):
                Z = A @ W_T
                Z += b
                A = Z if k == last else np.maximum(Z, 0, out=Z)
            out.append(A)
        return out

    def values(self, result):
        return _batch_losses(result, self.y, self.batch)

    def info(self):
        return {"dtype": str(self.layers[0][0].dtype)}


SYSTEMS = {"gradwise": Gradwise, "pytorch": PyTorch}


def benchmark(name: str):
    """The workload `name` with the interface of a benchmark module (see _harness.py). An
    MLP's inference also runs plain NumPy (NumPy above): what the BLAS alone allows."""
    arch, train, _, _, batch, goal, description = WORKLOADS[name]
    systems = SYSTEMS if train or not arch.startswith("mlp") else {**SYSTEMS, "numpy": NumPy}
    return types.SimpleNamespace(
        NAME=name, DESCRIPTION=description + (", SGD lr 0.1" if train else "") + f", batch {batch}",
        SYSTEMS=systems, TARGETS={"gradwise": {"max_ratio": goal}},
        config=functools.partial(config, name), make_data=make_data, init_params=init_params,
        sanity=sanity)
