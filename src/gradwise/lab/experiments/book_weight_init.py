"""Weight initialization: std 0.01 vs Xavier vs He (the book, ch. 6.2).

Activations (6.2.2-6.2.3, figures 6-10 to 6-14): 1,000 random inputs (randn, 100 features)
pass through 5 layers of 100 units, A = act(A_prev W) without biases, W = std * randn; a
histogram of each layer's activations, for each activation function and weight scale:

- sigmoid, std 1: the activations pile up at 0 and 1, where the sigmoid's slope vanishes;
- sigmoid, std 0.01: all near 0.5: every unit says the same, the layers add nothing;
- sigmoid / tanh, Xavier (std sqrt(1 / n)): spread over the range in every layer;
- ReLU, std 0.01: the activations shrink towards 0 layer after layer; Xavier: they still
  shrink; He (std sqrt(2 / n)): the same spread in every layer.

For ReLU the book's argument is He et al.'s (2015): with W ~ N(0, s^2) and n inputs per
unit, E[a_l^2] = (n s^2 / 2) E[a_(l-1)^2], so the activations' root mean square changes by
sqrt(n s^2 / 2) per layer: 1 for He, 1/sqrt(2) for Xavier, 0.0707 for std 0.01. We measure
that factor (the geometric mean over layers 1 to 5) against the formula, within 5%.

MNIST (6.2.4, figure 6-15): three 5-layer ReLU networks (784-100-100-100-100-10) that differ
only in their initial weights learn with SGD (lr 0.01, batches of 128, 2,000 iterations):
std 0.01 does not learn at all (the loss stays at ln 10 = 2.3026, the uniform guess's);
He learns fastest, Xavier next.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from ... import functional as F
from ... import manual_seed, nn, optim, randn
from ...autograd import no_grad
from ..book import MNIST_FILES, SOURCE, mnist, multi_layer_net, train_side_by_side, weight_scale
from ..core import experiment
from ..plots import figure, loss_curves

NODES, LAYERS = 100, 5
FUNCTIONS = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu}
SCALES = {  # the book's figures: which initializations it shows for which activation
    "sigmoid": {"std 1": 1.0, "std 0.01": 0.01, "Xavier": "xavier"},
    "tanh": {"std 1": 1.0, "std 0.01": 0.01, "Xavier": "xavier"},
    "relu": {"std 0.01": 0.01, "Xavier": "xavier", "He": "he"},
}
HIST_RANGE = {"sigmoid": (0, 1), "tanh": (-1, 1), "relu": (0, 1)}


def activations(activation: str, weight_init_std, seed: int = 0) -> list[np.ndarray]:
    """The activations of each of the 5 layers for the same 1,000 random inputs."""
    manual_seed(seed)
    A = randn(1000, NODES)
    std = weight_scale(weight_init_std, NODES)
    out = []
    with no_grad():
        for _ in range(LAYERS):
            layer = nn.Linear(NODES, NODES, bias=False, init=functools.partial(nn.init.normal_, std=std))
            A = FUNCTIONS[activation](layer(A))
            out.append(A.data.astype(np.float64))
    return out


def rms_factor(acts) -> float:
    """How much the activations' root mean square changes per layer (geometric mean)."""
    rms = [math.sqrt(float(np.mean(a ** 2))) for a in acts]
    return (rms[-1] / rms[0]) ** (1.0 / (len(rms) - 1))


def histograms(run, activation: str) -> dict:
    scales = SCALES[activation]
    fig, axes = figure(LAYERS, len(scales), size=(2.0, 1.7))
    stats = {}
    for row, (label, std) in enumerate(scales.items()):
        acts = activations(activation, std)
        for l, a in enumerate(acts):
            ax = axes[row * LAYERS + l]
            counts, edges = np.histogram(a, bins=30, range=HIST_RANGE[activation])
            ax.stairs(counts, edges, fill=True, color="tab:blue")
            ax.set_ylim(0, 7000 if activation == "relu" else None)
            ax.set_title(f"{label}: layer {l + 1}", fontsize=8)
            ax.tick_params(labelsize=6)
            if l:
                ax.set_yticks([])
            if row < len(scales) - 1:
                ax.set_xticklabels([])
        last = acts[-1]
        stats[label] = {"rms_factor": rms_factor(acts), "std_last": float(last.std()),
                        "mean_last": float(last.mean())}
        if activation == "sigmoid":
            stats[label]["share_at_0_or_1"] = float(np.mean((last < 0.05) | (last > 0.95)))
            stats[label]["max_distance_from_half"] = float(np.abs(last - 0.5).max())
        if activation == "tanh":
            stats[label]["share_saturated"] = float(np.mean(np.abs(last) > 0.95))
    fig.suptitle(f"{activation}: activations of 5 layers of {NODES} units (1,000 random inputs)", fontsize=9)
    run.savefig(fig, f"histograms-{activation}")
    return stats


@experiment("weight_init", "Weight initialization: std 0.01 vs Xavier vs He (activations, MNIST)",
            f"{SOURCE}, ch. 6.2 (weight_init_activation_histogram.py, weight_init_compare.py, "
            f"figures 6-10 to 6-15)",
            quick_note="400 MNIST iterations instead of 2,000 (the histograms in full)",
            needs=MNIST_FILES,
            headline={"std 0.01 final loss": "std=0.01: final loss (does not learn: ln 10 = 2.3026)",
                      "He minus Xavier final loss": "He learns fastest: final loss He - Xavier",
                      "ReLU + He RMS factor per layer": "ReLU, He: activation RMS factor per layer (He et al.: 1)"})
def run(run):
    stats = {act: histograms(run, act) for act in SCALES}
    sig, relu = stats["sigmoid"], stats["relu"]
    run.check_bound("sigmoid, std 1: share of layer-5 activations within 0.05 of 0 or 1",
                    sig["std 1"]["share_at_0_or_1"], low=0.5)
    run.check_bound("sigmoid, std 0.01: largest |a - 0.5| in layer 5", sig["std 0.01"]["max_distance_from_half"],
                    high=0.1)
    run.check_bound("sigmoid, Xavier: share of layer-5 activations within 0.05 of 0 or 1",
                    sig["Xavier"]["share_at_0_or_1"], high=0.01)
    for label, std in SCALES["relu"].items():
        theory = math.sqrt(NODES * weight_scale(std, NODES) ** 2 / 2)
        run.check(f"ReLU, {label}: activation RMS factor per layer (He et al.: {theory:.4g})",
                  relu[label]["rms_factor"], theory, 0.05 * theory)
    run.log("  " + "; ".join(f"{act} {label}: RMS x{s['rms_factor']:.3g}/layer, layer-5 std {s['std_last']:.3g}"
                             for act, by in stats.items() for label, s in by.items()))

    (X, y), _ = mnist()
    iterations = 400 if run.quick else 2000
    manual_seed(0)
    nets = {}
    for label, std in {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}.items():
        model = multi_layer_net([100] * 4, weight_init_std=std)
        nets[label] = (model, optim.SGD(model.parameters(), lr=0.01))
    losses = train_side_by_side(nets, X, y, 128, iterations, run.progress)
    final = {k: float(np.mean(v[-100:])) for k, v in losses.items()}
    run.log("  final loss (last 100 iterations): " + ", ".join(f"{k} {v:.4f}" for k, v in final.items()))
    run.check(f"std=0.01: final loss (does not learn: ln 10 = {math.log(10):.4f})", final["std=0.01"],
              math.log(10), 0.01)
    run.check_bound("He learns fastest: final loss He - Xavier", final["He"] - final["Xavier"], high=0.0)
    run.check_bound("Xavier learns: final loss Xavier - std=0.01", final["Xavier"] - final["std=0.01"], high=-0.2)

    fig, (ax,) = figure(1, size=(5.6, 4.0))
    loss_curves(ax, losses, f"5-layer ReLU net on MNIST, SGD lr 0.01, {iterations} iterations", ylim=(0, 2.5))
    run.savefig(fig, "mnist-loss")
    run.record(activation_stats=stats, final_loss=final, loss_every_10={k: v[::10] for k, v in losses.items()})
