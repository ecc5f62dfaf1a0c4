"""Regularization (the course, Improving Deep Neural Networks, week 1).

The "French football" data: where the goalkeeper kicked the ball and whether a player of
the same team headed it (211 training, 200 test positions). A 3-layer ReLU network
[2, 20, 3, 1], W = randn / sqrt(n_prev) after np.random.seed(3), full-batch gradient
descent, lr 0.3, 30,000 iterations, three ways:

- no regularization: 94.8% train, 91.5% test; the boundary bends around noisy points;
- L2, lambda 0.7: the cost gets (lambda / 2m) sum ||W||^2, dW gets (lambda / m) W:
  93.8% / 93%;
- inverted dropout on both hidden layers, keep_prob 0.86: 92.9% / 95%.

The notebook's dropout calls np.random.seed(1) at the top of every forward pass, so every
iteration drops the same units: D1 = rand(20, m) < 0.86, then D2 = rand(3, m) < 0.86. We
draw those masks once, in the course's (units, examples) layout, and hand their transposes
to F.dropout(mask=...).

Reference: Regularization_v2a.ipynb printed outputs (full floats, compared to 1e-9).
"""
from __future__ import annotations

import numpy as np

from ... import functional as F
from ... import nn, optim
from ...datasets import load_football
from ...train.metrics import accuracy
from ..core import experiment
from ..course import as_inputs, as_targets, course_draws, load_draws, predict, train_full_batch
from ..plots import cost_curve, decision_boundary, figure

LAYERS = [2, 20, 3, 1]
PRINTED = {
    "none": {0: 0.6557412523481002, 10000: 0.16329987525724216, 20000: 0.13851642423255986},
    "L2": {0: 0.6974484493131264, 10000: 0.2684918873282239, 20000: 0.2680916337127301},
    "dropout": {0: 0.6543912405149825, 10000: 0.061016986574905605, 20000: 0.060582435798513114},
}
# printed as fractions of 211 and 200 examples: 0.947867298578 = 200/211, 0.938388625592 =
# 198/211, 0.9289099526066351 = 196/211
ACCURACY = {"none": (100 * 200 / 211, 91.5), "L2": (100 * 198 / 211, 93.0),
            "dropout": (100 * 196 / 211, 95.0)}
TITLES = {"none": "no regularization", "L2": "L2, lambda 0.7", "dropout": "dropout, keep_prob 0.86"}
LAMBD, KEEP_PROB = 0.7, 0.86


class FixedDropout(nn.Module):
    """Inverted dropout that drops the same units on every training pass (the notebook's
    reseeded masks); the identity in eval mode."""

    def __init__(self, mask: np.ndarray, keep_prob: float):
        super().__init__()
        self.mask, self.p = mask, 1.0 - keep_prob

    def forward(self, A):
        if self.training and A.shape != self.mask.shape:
            raise ValueError(f"FixedDropout: its mask is for a batch of shape {self.mask.shape}, "
                             f"got {A.shape}")
        return F.dropout(A, self.p, self.training, mask=self.mask)


def course_masks(m: int, keep_prob: float, seed: int = 1):
    """D1 (20, m) then D2 (3, m) from np.random.seed(seed), as batch-first (m, n) masks."""
    rs = np.random.RandomState(seed)
    D1 = rs.rand(LAYERS[1], m) < keep_prob
    D2 = rs.rand(LAYERS[2], m) < keep_prob
    return D1.T, D2.T


def football_net(dropout_masks=None) -> nn.Sequential:
    """LINEAR -> RELU [-> DROPOUT] -> LINEAR -> RELU [-> DROPOUT] -> LINEAR (-> sigmoid in the loss)."""
    D1, D2 = dropout_masks or (None, None)
    layers = [nn.Linear(2, 20, init="zeros", dtype=np.float64), nn.ReLU()]
    layers += [FixedDropout(D1, KEEP_PROB)] if D1 is not None else []
    layers += [nn.Linear(20, 3, init="zeros", dtype=np.float64), nn.ReLU()]
    layers += [FixedDropout(D2, KEEP_PROB)] if D2 is not None else []
    layers += [nn.Linear(3, 1, init="zeros", dtype=np.float64)]
    model = nn.Sequential(*layers)
    load_draws(model, course_draws(LAYERS, "xavier", seed=3))
    return model


@experiment("regularization", "Regularization: none vs L2 vs dropout on the football data",
            "Improving Deep Neural Networks, week 1 (Regularization)",
            quick_note="the cost at iteration 0 of each model, and 10,001 iterations with dropout",
            needs=("course/data.mat",),
            headline={"none train %": "no regularization: train accuracy (%)",
                      "none test %": "no regularization: test accuracy (%)",
                      "L2 train %": "L2, lambda 0.7: train accuracy (%)",
                      "L2 test %": "L2, lambda 0.7: test accuracy (%)",
                      "dropout train %": "dropout, keep_prob 0.86: train accuracy (%)",
                      "dropout test %": "dropout, keep_prob 0.86: test accuracy (%)"})
def run(run):
    (X_train, y_train), (X_test, y_test) = load_football(dtype=np.float64)
    X, Y, X_te = as_inputs(X_train), as_targets(y_train), as_inputs(X_test)
    m = X.shape[0]
    iterations = {k: 30_000 for k in PRINTED}
    if run.quick:
        iterations = {"none": 1, "L2": 1, "dropout": 10_001}

    fig_b, axes_b = figure(3, size=(3.8, 3.4))
    fig_c, (ax_c,) = figure(1, size=(5, 3.4))
    curves = {}
    for ax, kind in zip(axes_b, PRINTED):
        model = football_net(course_masks(m, KEEP_PROB) if kind == "dropout" else None)
        # (lambd / 2m) sum ||W[l]||^2 on the cost, biases excluded: dW[l] gets (lambd / m) W[l]
        penalty = (lambda net: optim.l2_penalty(net, LAMBD, m)) if kind == "L2" else None
        iters = iterations[kind]
        costs = train_full_batch(model, X, Y, optim.SGD(model.parameters(), lr=0.3), iters,
                                 every=1000, progress=run.progress, penalty=penalty, desc=TITLES[kind])
        published = {i: c for i, c in PRINTED[kind].items() if i < iters}
        run.check_series(f"{TITLES[kind]}: cost every 10,000 iterations (full floats)", costs,
                         published, 1e-9)
        tr, te = 100 * accuracy(y_train, predict(model, X)), 100 * accuracy(y_test, predict(model, X_te))
        if iters == 30_000:
            run.check(f"{TITLES[kind]}: train accuracy (%)", tr, ACCURACY[kind][0], 1e-9)
            run.check(f"{TITLES[kind]}: test accuracy (%)", te, ACCURACY[kind][1], 1e-9)
        run.log(f"  {TITLES[kind]}: train {tr:.2f}%, test {te:.2f}% after {iters} iterations")
        decision_boundary(ax, lambda P, net=model: predict(net, as_inputs(P)), X_train, y_train,
                          f"{TITLES[kind]}: train {tr:.1f}%, test {te:.1f}%",
                          xlim=(-0.75, 0.40), ylim=(-0.75, 0.65))
        if len(costs) > 1:
            cost_curve(ax_c, costs, TITLES[kind], "cost, lr 0.3")
        curves[kind] = costs
    run.savefig(fig_b, "boundaries")
    run.savefig(fig_c, "costs")
    run.record(costs=curves)
