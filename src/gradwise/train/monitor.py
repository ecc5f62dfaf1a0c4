"""The training-health monitor: what each layer of a network does while it trains, and what
to do when that looks wrong.

    history = fit(model, F.cross_entropy, opt, (X, y), epochs=20, monitor=True)
    history.monitor.warnings          # [HealthWarning(epoch=0, kind='vanishing', ...)]
    print(history.monitor.report())   # a table per epoch and the warnings in plain words
    history.monitor.plot("health.png")

Per layer, each epoch (means over the measured batches of the epoch):
    grad_norm      ||dW||, the Frobenius norm of the layer's weight gradient
    update_ratio   ||W_after - W_before|| / ||W_before|| for one optimizer step (a healthy
                   step changes the weights by about 1e-3 of their size, a rule of thumb
                   from CS231n)
    mean, std      of the layer's output over the epoch's examples (A for activations, Z for
                   Linear/Conv layers)
    saturated      sigmoid/tanh: the fraction of outputs whose local gradient is below 1e-3
                   (sigmoid A (1 - A) < 1e-3 is |z| > 6.9; tanh 1 - A^2 < 1e-3 is |z| > 3.8),
                   units that barely pass any gradient back
    dead           ReLU: the fraction of units (features; channels of images) that output 0 for
                   every example of the epoch: they get no gradient and never recover

Layers are the modules that own a weight of 2 or more dimensions (Linear, Conv2d) and the
activation modules (Sigmoid, Tanh, ReLU, LeakyReLU, ...), seen through forward hooks during
training only (validation and predict are not counted). An activation applied as a function
inside a custom forward (F.relu(Z)) is not a module and is not seen; its layer's Z is.

The warnings name the layer, the likely cause and the course's remedy (Improving Deep Neural
Networks, week 1: vanishing/exploding gradients and weight initialization). Their thresholds
are arguments of HealthMonitor.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import save_figure
from ..nn import layers as L
from .callbacks import Callback

# The local gradient below which a unit counts as saturated, and how to read it from the output
# A (no need to keep Z): sigmoid'(z) = A (1 - A), tanh'(z) = 1 - A^2.
SATURATION_SLOPE = 1e-3
_SLOPE = {
    L.Sigmoid: lambda A: A * (1 - A),
    L.Tanh: lambda A: 1 - A * A,
}
_RELU = (L.ReLU,)
_ACTIVATIONS = (L.Sigmoid, L.Tanh, L.ReLU, L.LeakyReLU, L.Softplus)

KINDS = ("vanishing", "exploding", "saturated", "dead", "lr_high", "lr_low")


@dataclass(frozen=True)
class HealthWarning:
    """One finding: the epoch (0-based) it was first seen, its kind (one of KINDS), the layer
    (as in the report, e.g. '3 (Sigmoid)'), what was seen (message) and the likely cause with
    the course's remedy (remedy), in plain words."""

    epoch: int
    kind: str
    layer: str
    message: str
    remedy: str = ""

    def __str__(self) -> str:
        return f"epoch {self.epoch + 1}: {self.message}. {self.remedy}".rstrip()


def _sq(x: np.ndarray) -> float:
    """sum(x^2): one BLAS dot in the array's dtype, again in float64 if that overflowed (the
    squares of an exploding float32 layer pass 3e38 long before its values do)."""
    x = x.ravel()
    s = float(np.dot(x, x))
    if not math.isfinite(s) and x.dtype != np.float64:
        x = x.astype(np.float64)
        s = float(np.dot(x, x))
    return s


class _Layer:
    """One watched module and the running sums of the current epoch."""

    def __init__(self, name: str, module):
        self.name, self.module = f"{name or 'model'} ({type(module).__name__})", module
        self.weights = [p for p in module.parameters(recurse=False) if p.ndim >= 2]
        self.slope = _SLOPE.get(type(module))
        self.relu = isinstance(module, _RELU)
        self.history: dict[str, list] = {}
        self.before = None
        self.reset()

    def reset(self) -> None:
        self.n_grad = 0
        self.grad, self.update = 0.0, 0.0
        self.n_out, self.mean, self.m2, self.n_sat = 0, 0.0, 0.0, 0  # m2: sum of (A - mean)^2
        self.alive = None     # per unit: has it been > 0 for some example this epoch?
        self.shared = False   # one module called on inputs of different widths: no unit count

    # ---- what the forward hook sees --------------------------------------------------------
    def see_output(self, A: np.ndarray) -> None:
        # the batch's mean and centred sum of squares, merged into the epoch's (Chan et al.'s
        # parallel variance: no E[A^2] - mean^2 cancellation, no float64 copy of A)
        n = A.size
        mean = float(A.sum(dtype=np.float64)) / n
        m2 = _sq(A - A.dtype.type(mean)) if A.dtype.kind == "f" else _sq((A - mean).astype(np.float64))
        total = self.n_out + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n_out * n / total
        self.n_out = total
        if self.slope is not None:
            self.n_sat += int(np.count_nonzero(self.slope(A) < SATURATION_SLOPE))
        if self.relu and A.ndim >= 2:
            other = (0,) + tuple(range(2, A.ndim))  # every axis but the units' (axis 1)
            active = (A > 0).any(axis=other)
            if self.alive is None:
                self.alive = active
            elif self.alive.shape == active.shape:
                self.alive |= active
            else:
                self.shared = True

    # ---- around an optimizer step ------------------------------------------------------------
    def rms(self, norm: float) -> float:
        """A Frobenius norm of the weights' shape, per entry."""
        return norm / math.sqrt(sum(W.size for W in self.weights))

    def snapshot(self) -> None:
        self.before = [W.data.copy() for W in self.weights]

    def see_step(self) -> None:
        grads = [W.grad for W in self.weights if W.grad is not None]
        if not grads:  # frozen layer, or one the loss did not reach
            self.before = None
            return
        self.n_grad += 1
        self.grad += math.sqrt(sum(_sq(g) for g in grads))
        if self.before is not None:
            dW = math.sqrt(sum(_sq(W.data - W0) for W, W0 in zip(self.weights, self.before)))
            norm = math.sqrt(sum(_sq(W0) for W0 in self.before))
            self.update += dW / norm if norm > 0 else math.inf
            self.before = None

    # ---- the epoch's numbers ------------------------------------------------------------------
    def close_epoch(self) -> dict:
        row = {}
        if self.weights:
            row["grad_norm"] = self.grad / self.n_grad if self.n_grad else math.nan
            row["update_ratio"] = self.update / self.n_grad if self.n_grad else math.nan
            row["weight_norm"] = math.sqrt(sum(_sq(W.data) for W in self.weights))
        if self.n_out:
            row["mean"] = self.mean
            var = self.m2 / self.n_out
            row["std"] = math.sqrt(var) if math.isfinite(var) else math.inf
        if self.slope is not None and self.n_out:
            row["saturated"] = self.n_sat / self.n_out
        if self.relu and self.alive is not None and not self.shared:
            row["dead"] = float(np.count_nonzero(~self.alive)) / self.alive.size
        for k, v in row.items():
            self.history.setdefault(k, []).append(v)
        self.reset()
        return row


class HealthMonitor(Callback):
    """Watch every layer while fit() trains; warn, in plain words, when training is unhealthy.

    every: measure one batch in `every` (1: all). A measured step costs one copy of the
        weights (for the update ratio) and a few passes over each watched output: about 1.2x
        fit's time for an MLP 784-100-100-10 measured on every batch, within noise with
        every=10 (benchmarks/monitor_overhead.py).
    vanishing_ratio: flag vanishing gradients when the first weight layer's gradient per weight
        (||dW|| / sqrt(size of W)) is below this fraction of the last weight layer's
        (exploding: above its inverse).
    activation_growth: flag exploding activations when the output std grows by more than this
        factor from the first watched layer to the last (or any value is inf/NaN).
    saturation: flag a sigmoid/tanh layer when more than this fraction of its outputs saturate.
    dead: flag a ReLU layer when more than this fraction of its units is dead for a whole epoch.
    update_high / update_low: flag a learning rate that moves the weights by more than
        update_high of their size per step (any epoch), or by less than update_low in every
        layer (first epoch).
    verbose: 1 prints each new warning as it is found, 0 keeps them in .warnings only.

    After training: .history[layer][metric] is a list (one value per epoch), .layers the
    layer names in forward order, .warnings the HealthWarnings (each kind and layer once,
    at the epoch it first appeared), .flagged the set of kinds. report() and plot(path)
    show them.
    """

    def __init__(self, every: int = 1, vanishing_ratio: float = 1e-2, activation_growth: float = 1e3,
                 saturation: float = 0.5, dead: float = 0.5, update_high: float = 0.1,
                 update_low: float = 1e-6, verbose: int = 1, print_fn=print):
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"HealthMonitor: every must be a positive integer, got {every!r}")
        for name, v in (("vanishing_ratio", vanishing_ratio), ("saturation", saturation),
                        ("dead", dead)):
            if not 0 < v < 1:
                raise ValueError(f"HealthMonitor: {name} must be in (0, 1), got {v}")
        if activation_growth <= 1 or not 0 < update_low < update_high:
            raise ValueError("HealthMonitor: need activation_growth > 1 and 0 < update_low < "
                             f"update_high, got {activation_growth}, {update_low}, {update_high}")
        self.every, self.vanishing_ratio, self.activation_growth = int(every), vanishing_ratio, activation_growth
        self.saturation, self.dead, self.update_high, self.update_low = saturation, dead, update_high, update_low
        self.verbose, self.print_fn = verbose, print_fn
        self._layers: list[_Layer] = []
        self._handles = []
        self.warnings: list[HealthWarning] = []
        self.epochs: list[int] = []

    # ---- results ---------------------------------------------------------------------------
    @property
    def layers(self) -> list[str]:
        return [layer.name for layer in self._layers]

    @property
    def history(self) -> dict[str, dict[str, list]]:
        return {layer.name: layer.history for layer in self._layers}

    @property
    def flagged(self) -> set[str]:
        return {w.kind for w in self.warnings}

    # ---- hooks into fit --------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.detach()
        self._layers, self.warnings, self.epochs = [], [], []
        for name, m in self.model.named_modules():
            own = [p for p in m.parameters(recurse=False) if p.ndim >= 2]
            if own or isinstance(m, _ACTIVATIONS):
                self._layers.append(_Layer(name, m))
        if not self._layers:
            raise ValueError(f"HealthMonitor: {type(self.model).__name__} has no layer to watch "
                             "(no Linear/Conv weights, no activation modules)")
        for layer in self._layers:
            self._handles.append(layer.module.register_forward_hook(self._hook(layer)))
        self._measure = False
        self._open = False

    def _hook(self, layer: _Layer):
        def hook(module, inputs, out):
            if self._measure and module.training:
                layer.see_output(out.data if hasattr(out, "data") else np.asarray(out))
        return hook

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self._layers:
            layer.reset()
        self._open = True

    def on_batch_begin(self, batch, logs=None):
        self._measure = batch % self.every == 0
        if self._measure:
            for layer in self._layers:
                if layer.weights:
                    layer.snapshot()

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            # fit applied no update with this loss and raises (or stops) next: close the epoch
            # now, so the record holds what led here
            self._measure = False
            self._close_epoch(self.trainer.epoch, bad_loss=(batch, loss))
            return
        if self._measure:
            for layer in self._layers:
                if layer.weights:
                    layer.see_step()
        self._measure = False

    def on_epoch_end(self, epoch, logs=None):
        self._close_epoch(epoch)

    def on_train_end(self, logs=None):
        # a run stopped inside an epoch (TerminateOnNaN) still reports what it saw
        if self._open and any(layer.n_grad or layer.n_out for layer in self._layers):
            self._close_epoch(self.trainer.epoch if self.trainer.epoch is not None else 0)
        self.detach()

    def detach(self) -> None:
        """Remove the forward hooks (fit does it at the end of training, on an error too)."""
        for h in self._handles:
            h.remove()
        self._handles = []
        self._measure = False

    # ---- judging an epoch ------------------------------------------------------------------
    def _close_epoch(self, epoch: int, bad_loss=None) -> None:
        rows = [(layer, layer.close_epoch()) for layer in self._layers]
        self._open = False
        self.epochs.append(epoch)
        found = list(self._check(epoch, rows))
        if bad_loss is not None:
            batch, loss = bad_loss
            found.append(("exploding", "loss", f"the loss became {loss} at batch {batch}: "
                          f"training diverged"))
        saturated = any(r.get("saturated", 0.0) > self.saturation for _, r in rows)
        new = []
        for kind, layer, message in found:
            if any(w.kind == kind and w.layer == layer for w in self.warnings + new):
                continue  # each finding once, at the epoch it first appears
            remedy = VANISHING_SATURATED if kind == "vanishing" and saturated else REMEDIES[kind]
            new.append(HealthWarning(epoch, kind, layer, message, remedy))
        self.warnings += new
        if self.verbose and new:
            self.print_fn("\n".join(_grouped(new, prefix="HealthMonitor: ")))

    def _check(self, epoch: int, rows):
        # the weight layers that got a gradient this epoch (an infinite one counts: it explodes)
        weighted = [(layer, r) for layer, r in rows if not math.isnan(r.get("grad_norm", math.nan))]
        yield from self._check_activations(rows)  # saturation first: it explains what follows
        yield from self._check_gradients(weighted)
        yield from self._check_updates(epoch, weighted)

    def _check_gradients(self, weighted):
        for layer, r in weighted:
            if not math.isfinite(r["grad_norm"]):
                yield ("exploding", layer.name,
                       f"the gradient of {layer.name} is {r['grad_norm']}: gradients explode")
                return
        if len(weighted) < 2:
            return
        # per weight (the RMS ||dW|| / sqrt(size)), so that layers of different sizes compare
        (first, r1), (last, rL) = weighted[0], weighted[-1]
        g1, gL = first.rms(r1["grad_norm"]), last.rms(rL["grad_norm"])
        if not (gL > 0 and math.isfinite(g1) and math.isfinite(gL)):
            return
        ratio = g1 / gL
        depth = len(weighted)
        if ratio < self.vanishing_ratio:
            how = (f"is {_times(1 / ratio)} smaller than that of {last.name}" if ratio > 0
                   else f"is zero while that of {last.name} is not")
            yield ("vanishing", first.name,
                   f"gradients vanish: per weight, the gradient of {first.name} {how}, "
                   f"{depth - 1} weight layers later, so the early layers barely learn")
        elif ratio > 1 / self.vanishing_ratio:
            yield ("exploding", first.name,
                   f"gradients explode: per weight, the gradient of {first.name} is {_times(ratio)} "
                   f"larger than that of {last.name}, {depth - 1} weight layers later")

    def _check_activations(self, rows):
        stds = [(layer, r["std"]) for layer, r in rows if "std" in r]
        for layer, std in stds:
            if not math.isfinite(std):
                yield ("exploding", layer.name,
                       f"the outputs of {layer.name} overflow (std {std}): activations explode")
                break
        finite = [(layer, s) for layer, s in stds if math.isfinite(s) and s > 0]
        if len(finite) >= 2 and finite[-1][1] / finite[0][1] > self.activation_growth:
            (first, s1), (last, sL) = finite[0], finite[-1]
            yield ("exploding", last.name,
                   f"activations explode: the output std grows from {s1:.3g} at {first.name} to "
                   f"{sL:.3g} at {last.name} ({_times(sL / s1)})")
        for layer, r in rows:
            sat = r.get("saturated")
            if sat is not None and sat > self.saturation:
                yield ("saturated", layer.name,
                       f"{sat:.0%} of the outputs of {layer.name} are saturated (local gradient "
                       f"< {SATURATION_SLOPE:g}, |z| far from 0): these units barely learn")
            dead = r.get("dead")
            if dead is not None and dead > self.dead:
                yield ("dead", layer.name,
                       f"{dead:.0%} of the units of {layer.name} output 0 for every example of the "
                       f"epoch (dead ReLUs): they get no gradient and never recover")

    def _check_updates(self, epoch, weighted):
        ratios = [(layer, r["update_ratio"]) for layer, r in weighted if math.isfinite(r["update_ratio"])]
        for layer, u in ratios:
            if u > self.update_high:
                yield ("lr_high", layer.name,
                       f"each step changes the weights of {layer.name} by {u:.3g} of their size (about "
                       f"1e-3 is healthy): the learning rate is likely too high, training may "
                       f"oscillate or diverge")
                break
        if epoch == self.epochs[0] and ratios and max(u for _, u in ratios) < self.update_low:
            layer, u = max(ratios, key=lambda lu: lu[1])
            yield ("lr_low", "all layers",
                   f"no layer moves by more than {u:.3g} of its size per step (about 1e-3 is "
                   f"healthy): the learning rate is likely too low")

    # ---- showing it ------------------------------------------------------------------------
    def report(self) -> str:
        """A table per layer of the first and last epoch's numbers, then the warnings."""
        if not self.epochs:
            return "HealthMonitor: no epoch recorded yet"
        metrics = ("grad_norm", "update_ratio", "mean", "std", "saturated", "dead")
        width = max(len(n) for n in self.layers + ["layer"])
        lines = [f"Training health over {len(self.epochs)} epoch(s) (first -> last epoch)",
                 f"{'layer':<{width}}  " + "  ".join(f"{m:>21}" for m in metrics)]
        for layer in self._layers:
            cells = []
            for m in metrics:
                v = layer.history.get(m)
                cells.append(f"{_fmt(v[0])} -> {_fmt(v[-1])}" if v else "")
            lines.append(f"{layer.name:<{width}}  " + "  ".join(f"{c:>21}" for c in cells))
        if self.warnings:
            lines.append(f"\n{len(self.warnings)} warning(s):")
            lines += _grouped(self.warnings, prefix="- ")
        else:
            lines.append("\nNo warnings: gradients, updates and activations look healthy.")
        return "\n".join(lines)

    def plot(self, path="health.png") -> Path:
        """Save the per-layer curves over epochs as a PNG (written atomically); return the path.
        Panels: gradient norm and update ratio (log scale; the 1e-3 guide line dashed),
        output std, saturated and dead fractions."""
        from matplotlib.figure import Figure  # lazily: the monitor itself needs no plotting

        if not self.epochs:
            raise ValueError("HealthMonitor.plot: no epoch recorded yet")
        panels = [("grad_norm", "gradient norm ||dW||", True),
                  ("update_ratio", "update / weight ratio", True),
                  ("std", "output std", True), ("saturated", "saturated fraction", False),
                  ("dead", "dead ReLU fraction", False)]
        panels = [p for p in panels if any(p[0] in h for h in self.history.values())]
        fig = Figure(figsize=(4.4 * len(panels) + 1.6, 3.6), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        x = np.asarray(self.epochs) + 1
        # one colour per layer, by depth (dark: input side, light: output side), on every panel
        from matplotlib import colormaps
        colours = colormaps["viridis"](np.linspace(0.0, 0.9, len(self._layers)))
        handles = {}
        for ax, (key, title, log) in zip(axes, panels):
            for layer, colour in zip(self._layers, colours):
                v = layer.history.get(key)
                if v:
                    y = np.asarray(v, dtype=np.float64)
                    handles[layer.name] = ax.plot(x[:len(y)], y, marker="o", ms=3, color=colour)[0]
            if log:
                values = np.concatenate([np.asarray(h[key], dtype=np.float64)
                                         for h in self.history.values() if key in h])
                positive = values[np.isfinite(values) & (values > 0)]
                if (values == 0).any():  # a zero gradient is the point to see: linear near 0
                    ax.set_yscale("symlog", linthresh=positive.min() / 10 if positive.size else 1e-12)
                else:
                    ax.set_yscale("log")
            ax.xaxis.get_major_locator().set_params(integer=True)
            if key == "update_ratio":
                ax.axhline(1e-3, color="grey", ls="--", lw=1)
            if key in ("saturated", "dead"):
                ax.set_ylim(-0.02, 1.02)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("epoch")
        names = [n for n in self.layers if n in handles]
        fig.legend([handles[n] for n in names], names, loc="outside right upper", fontsize=7)
        if self.warnings:
            fig.suptitle("; ".join(sorted(self.flagged)), fontsize=10, color="#c62828")
        return save_figure(fig, path)


def _grouped(warnings, prefix: str) -> list[str]:
    """The findings one per line, the cause and remedy once after each run of one kind."""
    lines = []
    for i, w in enumerate(warnings):
        lines.append(f"{prefix}epoch {w.epoch + 1}: {w.message}.")
        following = warnings[i + 1] if i + 1 < len(warnings) else None
        if following is None or (following.kind, following.epoch) != (w.kind, w.epoch):
            lines.append(f"{' ' * len(prefix)}  {w.remedy}")
    return lines


def _times(x: float) -> str:
    return f"{x:.3g} times" if math.isfinite(x) else "infinitely"


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}"


# ---- the course's remedies --------------------------------------------------------------------
VANISHING = ("Likely cause: depth with sigmoid/tanh units (their slope is at most 0.25 and 1, and "
             "the product over layers shrinks) or weights initialized too small. Remedy: ReLU "
             "units with He initialization (randn * sqrt(2 / n_prev)), Xavier for tanh "
             "(randn * sqrt(1 / n_prev)); batch normalization; residual connections for very deep "
             "networks.")
EXPLODING = ("Likely cause: weights initialized too large (each layer multiplies the signal) or a "
             "learning rate too high. Remedy: He/Xavier initialization (randn * sqrt(2 / n_prev) "
             "for ReLU, sqrt(1 / n_prev) for tanh), a lower learning rate, gradient clipping "
             "(optim.clip_grad_norm_), batch normalization.")
SATURATED = ("Likely cause: pre-activations z too large: weights initialized too large, or inputs "
             "not normalized. Remedy: normalize the inputs (zero mean, unit variance), Xavier "
             "initialization (randn * sqrt(1 / n_prev)), batch normalization; ReLU in hidden "
             "layers.")
DEAD = ("Likely cause: a learning rate too high (a large step pushed the units' z below 0 for "
        "every input) or a poor initialization/negative bias. Remedy: a lower learning rate, He "
        "initialization, Leaky ReLU.")
VANISHING_SATURATED = ("Likely cause: saturated sigmoid/tanh units (see the saturation warning) pass "
                       "almost no gradient back: the weights are initialized too large. Remedy: "
                       "Xavier initialization for tanh (randn * sqrt(1 / n_prev)), He for ReLU "
                       "(randn * sqrt(2 / n_prev)); normalized inputs; batch normalization.")
LR_HIGH = "Remedy: lower the learning rate (try 3 to 10 times smaller), or decay it."
LR_LOW = "Remedy: raise the learning rate (search it on a log scale, 10^U(-4, 0))."
REMEDIES = {"vanishing": VANISHING, "exploding": EXPLODING, "saturated": SATURATED, "dead": DEAD,
            "lr_high": LR_HIGH, "lr_low": LR_LOW}
