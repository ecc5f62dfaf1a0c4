"""The training-health monitor in words and pictures: its warnings with the course's remedies
(Improving Deep Neural Networks, week 1: vanishing/exploding gradients and weight
initialization), the text report and the plot of the per-layer curves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io import save_figure

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


def grouped(warnings, prefix: str) -> list[str]:
    """The findings one per line, the cause and remedy once after each run of one kind."""
    lines = []
    for i, w in enumerate(warnings):
        lines.append(f"{prefix}epoch {w.epoch + 1}: {w.message}.")
        following = warnings[i + 1] if i + 1 < len(warnings) else None
        if following is None or (following.kind, following.epoch) != (w.kind, w.epoch):
            lines.append(f"{' ' * len(prefix)}  {w.remedy}")
    return lines


def report(monitor) -> str:
    """The monitor's record as text: a table per layer of the first and last epoch's
    numbers, then the warnings."""
    if not monitor.epochs:
        return "HealthMonitor: no epoch recorded yet"
    metrics = ("grad_norm", "update_ratio", "mean", "std", "saturated", "dead")
    width = max(len(n) for n in monitor.layers + ["layer"])
    lines = [f"Training health over {len(monitor.epochs)} epoch(s) (first -> last epoch)",
             f"{'layer':<{width}}  " + "  ".join(f"{m:>21}" for m in metrics)]
    for layer in monitor._layers:
        cells = []
        for m in metrics:
            v = layer.history.get(m)
            cells.append(f"{_fmt(v[0])} -> {_fmt(v[-1])}" if v else "")
        lines.append(f"{layer.name:<{width}}  " + "  ".join(f"{c:>21}" for c in cells))
    if monitor.warnings:
        lines.append(f"\n{len(monitor.warnings)} warning(s):")
        lines += grouped(monitor.warnings, prefix="- ")
    else:
        lines.append("\nNo warnings: gradients, updates and activations look healthy.")
    return "\n".join(lines)


def plot(monitor, path) -> Path:
    """Save the per-layer curves over epochs as a PNG (written atomically); return the path.
    Panels: gradient norm and update ratio (log scale; the 1e-3 guide line dashed),
    output std, saturated and dead fractions."""
    from matplotlib.figure import Figure  # lazily: the monitor itself needs no plotting

    if not monitor.epochs:
        raise ValueError("HealthMonitor.plot: no epoch recorded yet")
    panels = [("grad_norm", "gradient norm ||dW||", True),
              ("update_ratio", "update / weight ratio", True),
              ("std", "output std", True), ("saturated", "saturated fraction", False),
              ("dead", "dead ReLU fraction", False)]
    panels = [p for p in panels if any(p[0] in h for h in monitor.history.values())]
    fig = Figure(figsize=(4.4 * len(panels) + 1.6, 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    x = np.asarray(monitor.epochs) + 1
    # one colour per layer, by depth (dark: input side, light: output side), on every panel
    from matplotlib import colormaps
    colours = colormaps["viridis"](np.linspace(0.0, 0.9, len(monitor._layers)))
    handles = {}
    for ax, (key, title, log) in zip(axes, panels):
        for layer, colour in zip(monitor._layers, colours):
            v = layer.history.get(key)
            if v:
                y = np.asarray(v, dtype=np.float64)
                handles[layer.name] = ax.plot(x[:len(y)], y, marker="o", ms=3, color=colour)[0]
        if log:
            values = np.concatenate([np.asarray(h[key], dtype=np.float64)
                                     for h in monitor.history.values() if key in h])
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
    names = [n for n in monitor.layers if n in handles]
    fig.legend([handles[n] for n in names], names, loc="outside right upper", fontsize=7)
    if monitor.warnings:
        fig.suptitle("; ".join(sorted(monitor.flagged)), fontsize=10, color="#c62828")
    return save_figure(fig, path)


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.3g}"
