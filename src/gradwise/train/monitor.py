"""The training-health monitor: what each layer of a network does while it trains, and what
to do when that looks wrong.

    history = fit(model, F.cross_entropy, opt, (X, y), epochs=20, monitor=True)
    history.monitor.warnings          # [HealthWarning(epoch=0, kind='vanishing', ...)]
    print(history.monitor.report())   # a table per epoch and the warnings in plain words
    history.monitor.plot("health.png")

The per-layer numbers (gradient norm, update ratio, output mean and std, saturated and dead
units) are defined in monitor_stats.py; the warnings, their remedies, the report and the plot
are in monitor_report.py. Layers are seen through forward hooks during training only
(validation and predict are not counted). An activation applied as a function inside a
custom forward (F.relu(Z)) is not a module and is not seen; its layer's Z is.

The warnings name the layer, the likely cause and the course's remedy. Their thresholds are
arguments of HealthMonitor.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..tensor import to_numpy
from .hooks import Callback
from .monitor_report import REMEDIES, VANISHING_SATURATED, HealthWarning, grouped, plot, report
from .monitor_stats import SATURATION_SLOPE, LayerStats, watched_layers

__all__ = ["HealthMonitor", "HealthWarning"]


class HealthMonitor(Callback):
    """Watch every layer while fit() trains; warn, in plain words, when training is unhealthy.

    every: measure one batch in `every` (1: all). A measured step costs one copy of the
        weights (for the update ratio) and a few passes over each watched output; what that
        costs is measured in benchmarks/monitor_overhead.py.
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
        self._layers: list[LayerStats] = []
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
        self._layers, self.warnings, self.epochs = watched_layers(self.model), [], []
        if not self._layers:
            raise ValueError(f"HealthMonitor: {type(self.model).__name__} has no layer to watch "
                             "(no Linear/Conv weights, no activation modules)")
        for layer in self._layers:
            self._handles.append(layer.module.register_forward_hook(self._hook(layer)))
        self._measure = False
        self._open = False

    def _hook(self, layer: LayerStats):
        def hook(module, inputs, out):
            if self._measure and module.training:
                layer.see_output(to_numpy(out))
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
            self.print_fn("\n".join(grouped(new, prefix="HealthMonitor: ")))

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

    # ---- showing it (monitor_report.py) ------------------------------------------------------
    def report(self) -> str:
        """A table per layer of the first and last epoch's numbers, then the warnings."""
        return report(self)

    def plot(self, path="health.png") -> Path:
        """Save the per-layer curves over epochs as a PNG (written atomically); return the path.
        Panels: gradient norm and update ratio (log scale; the 1e-3 guide line dashed),
        output std, saturated and dead fractions."""
        return plot(self, path)


def _times(x: float) -> str:
    return f"{x:.3g} times" if math.isfinite(x) else "infinitely"
