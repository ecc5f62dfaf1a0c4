"""Convolutional networks on 28 x 28 grey images, gradwise against PyTorch (2 threads, and 1):

  cnn           the book's SimpleConvNet, training: CONV 5x5 -> 30, ReLU, MAX-POOL 2x2,
                FC 4320 -> 100, ReLU, FC 100 -> 10; softmax cross-entropy, SGD lr 0.1,
                batch 100, one epoch over 10,000 images
  cnn_lenet5    LeNet-5 (classic: tanh, average pooling; the 28 x 28 digit padded by 2 to
                32 x 32), training, the same loss, batch and epoch, SGD lr 0.5
  cnn_infer     inference: SimpleConvNet then LeNet-5, forward only (no_grad / eval), batch
                100 over the same 10,000 images

Both systems build their networks from the library's layers (gradwise.models.SimpleConvNet and
LeNet5; torch.nn modules of the same layout), start from the same float32 weights (PyTorch's
default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn once with NumPy) and see the same
batches in the same order, so their loss curves agree up to float32 rounding. Each batch is
made with the framework's copying constructor (gw.tensor, torch.tensor), and SGD updates the
parameters in place under no_grad.

The images are synthetic: noise plus one of 10 random templates, the class; the loss falls from
2.3 to about 0.05 over the epoch, so a wrong gradient shows up as a different curve. cnn_lenet5.py and cnn_infer.py only set the workload's name and size.
"""
from __future__ import annotations

import numpy as np

NAME = "cnn"
DESCRIPTION = ("SimpleConvNet (conv 30 5x5, ReLU, max-pool 2, FC 100, ReLU, FC 10) training, "
               "SGD lr 0.1, batch 100, 1 epoch")
TARGETS = {"gradwise": {"max_ratio": 1.3, "max_rss_mb": 350}}
WORKLOAD = "simple"


def config(quick: bool = False, workload: str = WORKLOAD) -> dict:
    # LeNet-5's tanh units learn slowly at 0.1: 0.5 brings its loss down within the epoch too
    return {"workload": workload, "n": 2_000 if quick else 10_000, "batch": 100,
            "lr": 0.5 if workload == "lenet5" else 0.1, "seed": 0, "warmup_batches": 10}


def make_data(cfg):
    """Images (n, 1, 28, 28), float32 in [-0.5, 0.5): half noise, half the template of the
    image's class (10 random templates), so that the classes can be learned in one epoch."""
    rng = np.random.default_rng(cfg["seed"])
    templates = rng.random((10, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, size=cfg["n"], dtype=np.int64)
    X = rng.random((cfg["n"], 1, 28, 28), dtype=np.float32)
    X *= 0.5
    X += 0.5 * templates[y] - 0.5
    return X, y


# ---- the two networks' parameter shapes, in registration order (W as (out, in, ...)) --------
def _shapes(model: str) -> list:
    if model == "simple":
        return [(30, 1, 5, 5), (30,), (100, 4320), (100,), (10, 100), (10,)]
    return [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,),
            (10, 84), (10,)]


def _models(cfg) -> list:
    return ["simple", "lenet5"] if cfg["workload"] == "infer" else [cfg["workload"]]


def init_params(cfg):
    """{model: [W1, b1, ...]}: PyTorch's default init, drawn with NumPy, float32."""
    rng = np.random.default_rng(cfg["seed"] + 1)
    out = {}
    for model in _models(cfg):
        params = []
        shapes = _shapes(model)
        for w, b in zip(shapes[0::2], shapes[1::2]):
            bound = 1.0 / np.sqrt(np.prod(w[1:]))
            params.append(rng.uniform(-bound, bound, w).astype(np.float32))
            params.append(rng.uniform(-bound, bound, b).astype(np.float32))
        out[model] = params
    return out


def sanity(results: dict) -> list:
    """Same weights and batches: the first losses (or scores) agree to float32 rounding and the
    final ones closely."""
    from _harness import final_loss

    problems = []
    firsts = {s: r["losses"][0] for s, r in results.items()}
    finals = {s: final_loss(r["losses"]) for s, r in results.items()}
    if max(firsts.values()) - min(firsts.values()) > 1e-3 * max(1.0, abs(min(firsts.values()))):
        problems.append(f"first-batch values differ: {firsts}")
    if max(finals.values()) - min(finals.values()) > 0.02 * abs(min(finals.values())):
        problems.append(f"final values differ by more than 2%: {finals}")
    if not all(np.isfinite(v) for v in finals.values()):
        problems.append(f"non-finite loss: {finals}")
    return problems


# ---- gradwise ---------------------------------------------------------------------------
class Gradwise:
    def __init__(self, cfg, X, y, params):
        import gradwise as gw
        from gradwise.models import LeNet5, SimpleConvNet

        self.gw = gw
        self.X, self.y, self.batch, self.lr = X, y, cfg["batch"], cfg["lr"]
        self.training = cfg["workload"] != "infer"
        build = {"simple": lambda: SimpleConvNet(), "lenet5": lambda: LeNet5(input_size=28)}
        self.models = []
        for name, arrays in params.items():
            model = build[name]()
            for p, a in zip(model.parameters(), arrays, strict=True):
                assert p.shape == a.shape, (name, p.shape, a.shape)
                p.data[...] = a
            model.train(self.training)
            self.models.append(model)

    def epoch(self, n_batches):
        return self._train(n_batches) if self.training else self._infer(n_batches)

    def _train(self, n_batches):
        gw, F = self.gw, self.gw.functional
        (model,) = self.models
        params = list(model.parameters())
        X, y, bs, lr = self.X, self.y, self.batch, self.lr
        losses = []
        for i in range(n_batches):
            xb = gw.tensor(X[i * bs:(i + 1) * bs])
            yb = gw.tensor(y[i * bs:(i + 1) * bs])
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            with gw.no_grad():
                for p in params:
                    p.data -= lr * p.grad
                    p.grad = None
            losses.append(loss.item())
        return losses

    def _infer(self, n_batches):
        gw = self.gw
        X, bs = self.X, self.batch
        out = []
        with gw.no_grad():
            for i in range(n_batches):
                xb = gw.tensor(X[i * bs:(i + 1) * bs])
                out.append(sum(float(m(xb).data.max(axis=1).mean()) for m in self.models))
        return out

    def info(self):
        return {"dtype": str(next(self.models[0].parameters()).dtype),
                "gradwise_threads": self.gw.backend.get_num_threads()}


# ---- PyTorch ----------------------------------------------------------------------------
class PyTorch:
    threads = 2

    def __init__(self, cfg, X, y, params):
        import torch
        from torch import nn

        torch.set_num_threads(self.threads)
        self.torch = torch
        self.X, self.y, self.batch, self.lr = X, y, cfg["batch"], cfg["lr"]
        self.training = cfg["workload"] != "infer"
        build = {
            "simple": lambda: nn.Sequential(
                nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10)),
            "lenet5": lambda: nn.Sequential(
                nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
                nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10)),
        }
        self.models = []
        for name, arrays in params.items():
            model = build[name]()
            with torch.no_grad():
                for p, a in zip(model.parameters(), arrays, strict=True):
                    p.copy_(torch.from_numpy(a))
            model.train(self.training)
            self.models.append(model)

    def epoch(self, n_batches):
        return self._train(n_batches) if self.training else self._infer(n_batches)

    def _train(self, n_batches):
        torch = self.torch
        F = torch.nn.functional
        (model,) = self.models
        params = list(model.parameters())
        X, y, bs, lr = self.X, self.y, self.batch, self.lr
        losses = []
        for i in range(n_batches):
            xb = torch.tensor(X[i * bs:(i + 1) * bs])
            yb = torch.tensor(y[i * bs:(i + 1) * bs])
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-lr)
                    p.grad = None
            losses.append(loss.item())
        return losses

    def _infer(self, n_batches):
        torch = self.torch
        X, bs = self.X, self.batch
        out = []
        with torch.no_grad():
            for i in range(n_batches):
                xb = torch.tensor(X[i * bs:(i + 1) * bs])
                out.append(sum(float(m(xb).max(dim=1).values.mean()) for m in self.models))
        return out

    def info(self):
        torch = self.torch
        return {"dtype": str(next(self.models[0].parameters()).dtype),
                "torch_threads": torch.get_num_threads(),
                "torch_mkldnn": torch.backends.mkldnn.is_available()}


class Gradwise1(Gradwise):
    """gradwise on one thread: its own kernels (gradwise.backend.set_num_threads(1)) and
    NumPy's BLAS (threadpoolctl), to set beside PyTorch's one-thread row: the kernels alone,
    without any thread waiting on a busy machine."""

    def __init__(self, cfg, X, y, params):
        import gradwise as gw
        from threadpoolctl import threadpool_limits

        self._limit = threadpool_limits(limits=1, user_api="blas")  # for this process's life
        gw.backend.set_num_threads(1)
        super().__init__(cfg, X, y, params)


class PyTorch1(PyTorch):
    """PyTorch on one thread: with gradwise-1thread, the kernels alone."""

    threads = 1


SYSTEMS = {"gradwise": Gradwise, "pytorch": PyTorch, "gradwise-1thread": Gradwise1,
           "pytorch-1thread": PyTorch1}
