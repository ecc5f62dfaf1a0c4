"""The data pipeline: one epoch of an MLP 784-100-100-10 (plain SGD, lr 0.1, batch 100) on
28x28 images augmented on the fly (RandomCrop(28, padding=2), RandomHorizontalFlip,
RandomRotation(15)), the batches coming from four loaders:

  pytorch     torch.utils.data.DataLoader over a TensorDataset (PyTorch's usual path: one
              __getitem__ per example, then default_collate stacks them), num_workers=0
  serial      gradwise DataLoader, num_workers=0: one fancy index per batch
  threads     gradwise DataLoader, num_workers=2: threads prepare the next batches (index +
              augmentation) while the current one trains
  per_sample  gradwise DataLoader over a Dataset without __getitems__: the generic path,
              one __getitem__ per example and a collate, num_workers=0

Every system runs the same gradwise augmentation and the same gradwise training step on the
same batches in the same order with the same augmentation draws (the PyTorch loader is given
the gradwise loader's permutation and per-batch seeds), so their loss curves are identical
and the times differ only by how the batches are made. BLAS is pinned to one thread in every
system (threadpoolctl): the question is whether preparing batches overlaps training, and on a
2-core machine two BLAS threads would take the core the loader thread needs.

    python benchmarks/data_loader.py                # 3 rounds, table and ratios
    python benchmarks/data_loader.py --quick        # a smaller workload, 1 round
"""
from __future__ import annotations

import numpy as np
from mlp_core import init_params as mlp_init_params

NAME = "data_loader"
DESCRIPTION = ("MLP 784-100-100-10 on 28x28 images with crop+flip+rotation augmentation, "
               "SGD lr 0.1, batch 100, 1 epoch: loaders compared")
SIZES = (784, 100, 100, 10)


def config(quick: bool = False) -> dict:
    return {"n": 4_000 if quick else 20_000, "batch": 100, "lr": 0.1, "sizes": list(SIZES),
            "seed": 0, "warmup_batches": 5, "workers": 2}


def make_data(cfg):
    """Images uniform in [0, 1) (N, 1, 28, 28) float32, labels uniform in 0..9."""
    rng = np.random.default_rng(cfg["seed"])
    X = rng.random((cfg["n"], 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, cfg["sizes"][-1], size=cfg["n"], dtype=np.int64)
    return X, y


def init_params(cfg):
    """[W1, b1, W2, b2, W3, b3], PyTorch's default Linear init, float32 (the MLP benchmark's)."""
    return mlp_init_params(cfg)


def sanity(results: dict) -> list:
    """Same batches, same augmentation, same steps: the loss curves agree to float32 noise."""
    problems = []
    curves = {s: np.asarray(r["losses"]) for s, r in results.items()}
    ref_name, ref = next(iter(curves.items()))
    for s, c in curves.items():
        if c.shape != ref.shape or not np.allclose(c, ref, rtol=1e-5, atol=1e-6):
            problems.append(f"{s}'s loss curve differs from {ref_name}'s")
        if not np.all(np.isfinite(c)):
            problems.append(f"{s}: non-finite loss")
    return problems


def _augmentation():
    from gradwise.data import Compose, RandomCrop, RandomHorizontalFlip, RandomRotation

    return Compose([RandomCrop(28, padding=2), RandomHorizontalFlip(), RandomRotation(15)])


def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class _Trainer:
    """The gradwise training step every system shares."""

    def __init__(self, cfg, params):
        import gradwise as gw

        self.gw, self.lr = gw, cfg["lr"]
        self.params = [gw.tensor(p, requires_grad=True) for p in params]
        self._limit = _one_blas_thread()

    def step(self, xb, yb) -> float:
        gw, F = self.gw, self.gw.functional
        W1, b1, W2, b2, W3, b3 = params = self.params
        xb = xb if isinstance(xb, gw.Tensor) else gw.tensor(xb)
        yb = yb if isinstance(yb, gw.Tensor) else gw.tensor(yb)
        h = F.relu(F.linear(xb.reshape(xb.shape[0], -1), W1, b1))
        h = F.relu(F.linear(h, W2, b2))
        loss = F.cross_entropy(F.linear(h, W3, b3), yb)
        loss.backward()
        with gw.no_grad():
            for p in params:
                p.data -= self.lr * p.grad
                p.grad = None
        return loss.item()


class _GradwiseLoader:
    workers = 0

    def __init__(self, cfg, X, y, params):
        from gradwise.data import DataLoader

        self.trainer = _Trainer(cfg, params)
        self.loader = DataLoader(self.dataset(X, y), batch_size=cfg["batch"], shuffle=True,
                                 generator=cfg["seed"], transform=_augmentation(),
                                 num_workers=self.workers)

    def dataset(self, X, y):
        return (X, y)

    def epoch(self, n_batches):
        losses = []
        for i, (xb, yb) in enumerate(self.loader):
            if i == n_batches:
                break
            losses.append(self.trainer.step(xb, yb))
        return losses

    def info(self):
        return {"num_workers": self.workers}


class Serial(_GradwiseLoader):
    workers = 0


class Threads(_GradwiseLoader):
    workers = 2


class PerSample(_GradwiseLoader):
    workers = 0

    def dataset(self, X, y):
        from gradwise.data import Dataset

        class Examples(Dataset):  # no __getitems__: the loader falls back to one per example
            def __len__(self):
                return len(X)

            def __getitem__(self, i):
                return X[i], y[i]

        return Examples()


class PyTorch:
    def __init__(self, cfg, X, y, params):
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        torch.set_num_threads(1)
        self.trainer = _Trainer(cfg, params)
        self.augment = _augmentation()
        # the gradwise loader's first epoch: its permutation, then one seed per batch
        rng = np.random.default_rng(cfg["seed"])
        order = rng.permutation(len(X)).tolist()
        self.seeds = rng.integers(0, 2**63 - 1, size=-(-len(X) // cfg["batch"]))
        self.loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
                                 batch_size=cfg["batch"], sampler=order, num_workers=0)

    def epoch(self, n_batches):
        losses = []
        for i, (xb, yb) in enumerate(self.loader):
            if i == n_batches:
                break
            xb = self.augment(xb.numpy(), np.random.default_rng(int(self.seeds[i])))
            losses.append(self.trainer.step(xb, yb.numpy()))
        return losses

    def info(self):
        return {"num_workers": 0}


SYSTEMS = {"pytorch": PyTorch, "serial": Serial, "threads": Threads, "per_sample": PerSample}


def main(argv=None) -> int:
    """Run through the shared harness (one child process per measurement) and print ratios."""
    import argparse
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _harness

    ap = argparse.ArgumentParser(description=DESCRIPTION)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    cfg = config(quick=args.quick)
    env = _harness.environment()
    print(f"{env['date']}  {env['processor']}, {env['cpu_count']} cores  numpy {env['numpy']}  "
          f"torch {env['torch']}\n{NAME}: {DESCRIPTION}  (n={cfg['n']}, {repeats} round(s))")
    summary = _harness.measure(NAME, cfg, repeats)
    print()
    print(_harness.table(summary))
    rows = summary["rows"]
    for s in ("threads", "per_sample", "pytorch"):
        print(f"{s} / serial (median s/epoch): {rows[s]['median_s'] / rows['serial']['median_s']:.2f}")
    for p in summary["sanity_problems"]:
        print(f"SANITY: {p}")
    if not summary["sanity_problems"]:
        print("sanity: all four loaders give the same loss curve")
    return 1 if summary["sanity_problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
