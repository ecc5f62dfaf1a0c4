"""Cat vs non-cat (the course, Neural Networks and Deep Learning, weeks 2 and 4).

209 training and 50 test RGB images of 64 x 64, flattened to 12,288 inputs and divided by
255. Three models, each trained by full-batch gradient descent exactly as the notebooks do:

- logistic regression, w and b from zero, lr 0.005, 2,000 iterations: train 99.04%, test
  70%; then the learning rates 0.01, 0.001, 0.0001 for 1,500 iterations each;
- a two-layer network 12288-7-1 (ReLU, sigmoid), W = randn * 0.01 after np.random.seed(1),
  lr 0.0075, 2,500 iterations: train 100%, test 72%;
- a four-layer network [12288, 20, 7, 5, 1], W = randn / sqrt(n_prev) after
  np.random.seed(1), lr 0.0075, 2,500 iterations: train 98.56%, test 80%.

References (printed outputs): Logistic_Regression_with_a_Neural_Network_mindset_v6a.ipynb
(costs to 6 decimals; the learning-rate sweep's costs for lr 0.001 as the full floats the
notebook returns) and "Deep Neural Network - Application" (v8, costs as full floats). Full
floats are compared to 1e-9: published runs of the same notebook differ by ~1e-14 there.
"""
from __future__ import annotations

import numpy as np

from ... import nn, optim
from ...datasets import load_catvnoncat, show
from ...train.metrics import accuracy
from ..core import experiment
from ..course import as_inputs, as_targets, course_mlp, predict, train_full_batch
from ..plots import cost_curve, figure

FILES = ("course/train_catvnoncat.h5", "course/test_catvnoncat.h5")
LOGISTIC_COSTS = {0: 0.693147, 100: 0.584508, 200: 0.466949, 300: 0.376007, 400: 0.331463,
                  500: 0.303273, 600: 0.279880, 700: 0.260042, 800: 0.242941, 900: 0.228004,
                  1000: 0.214820, 1100: 0.203078, 1200: 0.192544, 1300: 0.183033,
                  1400: 0.174399, 1500: 0.166521, 1600: 0.159305, 1700: 0.152667,
                  1800: 0.146542, 1900: 0.140872}
# lr 0.001 in the sweep: the notebook's returned d["costs"], full floats
SWEEP_COSTS_0001 = dict(zip(range(0, 1500, 100), [
    0.69314718055994529, 0.59128942600035395, 0.55579611071270885, 0.52897651315623651,
    0.50688129174355179, 0.48787986321716587, 0.47110827803124367, 0.45604580969828512,
    0.44235022793365292, 0.42978171535077836, 0.41816382093643284, 0.40736174995821905,
    0.39726946872697977, 0.38780160722954093, 0.37888813035939578]))
SWEEP_ACCURACY = {0.01: (99.52153110047847, 68.0), 0.001: (88.99521531100478, 64.0),
                  0.0001: (68.42105263157895, 36.0)}
TWO_LAYER_COSTS = dict(zip(list(range(0, 2500, 100)) + [2499], [
    0.6930497356599888, 0.6464320953428849, 0.6325140647912677, 0.6015024920354665,
    0.5601966311605747, 0.515830477276473, 0.4754901313943325, 0.4339163151225749,
    0.400797753620389, 0.3580705011323798, 0.3394281538366412, 0.3052753636196263,
    0.27491377282130175, 0.2468176821061483, 0.19850735037466116, 0.17448318112556632,
    0.17080762978096647, 0.1130652456216472, 0.09629426845937152, 0.08342617959726863,
    0.07439078704319081, 0.06630748132267934, 0.05919329501038171, 0.053361403485605544,
    0.04855478562877018, 0.04421498215868956]))
FOUR_LAYER_COSTS = dict(zip(list(range(0, 2500, 100)) + [2499], [
    0.7717493284237686, 0.6720534400822914, 0.6482632048575212, 0.6115068816101354,
    0.5670473268366111, 0.54013766345478, 0.5279299569455267, 0.4654773771766851,
    0.3691258524959279, 0.39174697434805344, 0.3151869888600617, 0.2726998441789385,
    0.23741853400268137, 0.19960120532208647, 0.18926300388463305, 0.1611885466582775,
    0.14821389662363316, 0.13777487812972944, 0.1297401754919012, 0.12122535068005211,
    0.1138206066863371, 0.10783928526254133, 0.10285466069352679, 0.10089745445261787,
    0.09287821526472397, 0.088439943441702]))


def load():
    """Batch first: x (m, 12288) in [0, 1] as float64, labels (m,) with 1 = cat."""
    (x_train, y_train), (x_test, y_test), classes = load_catvnoncat()
    flat = lambda x: as_inputs(x.reshape(len(x), -1) / 255.0)  # noqa: E731  the course's scaling
    return flat(x_train), y_train, flat(x_test), y_test, classes, x_test


def _upto(costs: dict, iterations: int) -> dict:
    return {i: c for i, c in costs.items() if i < iterations}


def logistic_regression():
    """w, b = 0: the course's initialize_with_zeros."""
    return nn.Linear(12288, 1, init="zeros", dtype=np.float64)


def fit(model, X, Y, lr, iterations, run, desc):
    """Full-batch gradient descent; the cost every 100 iterations and at the last one."""
    opt = optim.SGD(model.parameters(), lr=lr)
    costs = train_full_batch(model, X, Y, opt, iterations, every=100, progress=run.progress, desc=desc)
    return costs


@experiment("cat_logistic", "Cat vs non-cat: logistic regression and its learning rate",
            "Neural Networks and Deep Learning, week 2 (Logistic Regression as a Neural Network)",
            quick_note="101 iterations per model: the first two published costs", needs=FILES,
            headline={"train %": "train accuracy (%)",
                      "test %": "test accuracy (%)",
                      "cost curve": "cost every 100 iterations (printed to 6 decimals)"})
def run_logistic(run):
    X, y, X_test, y_test, classes, _ = load()
    Y = as_targets(y)
    iters = 101 if run.quick else 2000

    model = logistic_regression()
    costs = fit(model, X, Y, 0.005, iters, run, "lr 0.005")
    run.check_series("cost every 100 iterations (printed to 6 decimals)", costs,
                     _upto(LOGISTIC_COSTS, iters), 1e-6)
    if not run.quick:
        train_acc = 100 * accuracy(y, predict(model, X))
        test_acc = 100 * accuracy(y_test, predict(model, X_test))
        run.check("train accuracy (%)", train_acc, 99.04306220095694, 1e-9)
        run.check("test accuracy (%)", test_acc, 70.0, 1e-9)
        run.log(f"  lr 0.005: train {train_acc:.2f}%, test {test_acc:.2f}%")

    # the learning-rate sweep, 1,500 iterations each
    sweep_iters = 101 if run.quick else 1500
    curves = {}
    for lr in ([0.001] if run.quick else SWEEP_ACCURACY):
        m = logistic_regression()
        curves[lr] = fit(m, X, Y, lr, sweep_iters, run, f"lr {lr}")
        if lr == 0.001:
            run.check_series("lr 0.001: cost every 100 iterations (full floats)", curves[lr],
                             _upto(SWEEP_COSTS_0001, sweep_iters), 1e-9)
        if not run.quick:
            tr, te = 100 * accuracy(y, predict(m, X)), 100 * accuracy(y_test, predict(m, X_test))
            run.check(f"lr {lr}: train accuracy (%)", tr, SWEEP_ACCURACY[lr][0], 1e-9)
            run.check(f"lr {lr}: test accuracy (%)", te, SWEEP_ACCURACY[lr][1], 1e-9)
            run.log(f"  lr {lr}: train {tr:.2f}%, test {te:.2f}%")

    fig, (ax, ax_sweep) = figure(2)
    cost_curve(ax, costs, "gradwise", "logistic regression, lr 0.005")
    ax.plot(list(_upto(LOGISTIC_COSTS, iters)), list(_upto(LOGISTIC_COSTS, iters).values()),
            "k+", ms=8, label="notebook (printed)")
    ax.legend(fontsize=8)
    for lr, c in curves.items():
        cost_curve(ax_sweep, c, f"lr {lr}", "learning rates (1,500 iterations)")
    run.savefig(fig, "costs")
    run.record(costs=costs, sweep_costs={str(k): v for k, v in curves.items()})


@experiment("cat_deep", "Cat vs non-cat: two-layer and four-layer networks",
            "Neural Networks and Deep Learning, week 4 (Deep Neural Network - Application)",
            quick_note="101 iterations per model: the first two published costs", needs=FILES,
            headline={"2-layer train %": "two-layer 12288-7-1: train accuracy (%)",
                      "2-layer test %": "two-layer 12288-7-1: test accuracy (%)",
                      "4-layer train %": "four-layer [12288, 20, 7, 5, 1]: train accuracy (%)",
                      "4-layer test %": "four-layer [12288, 20, 7, 5, 1]: test accuracy (%)"})
def run_deep(run):
    X, y, X_test, y_test, classes, x_test_images = load()
    Y = as_targets(y)
    iters = 101 if run.quick else 2500
    reference = {"two-layer 12288-7-1": ([12288, 7, 1], "small", TWO_LAYER_COSTS, (100.0, 72.0)),
                 "four-layer [12288, 20, 7, 5, 1]": ([12288, 20, 7, 5, 1], "xavier",
                                                    FOUR_LAYER_COSTS, (98.56459330143539, 80.0))}
    fig, axes = figure(2)
    curves, models = {}, {}
    for ax, (name, (dims, init, published, (train_ref, test_ref))) in zip(axes, reference.items()):
        model = course_mlp(dims, hidden="relu", init=init, seed=1)
        costs = fit(model, X, Y, 0.0075, iters, run, name)
        run.check_series(f"{name}: cost every 100 iterations (full floats)", costs,
                         _upto(published, iters), 1e-9)
        if not run.quick:
            tr, te = 100 * accuracy(y, predict(model, X)), 100 * accuracy(y_test, predict(model, X_test))
            run.check(f"{name}: train accuracy (%)", tr, train_ref, 1e-9)
            run.check(f"{name}: test accuracy (%)", te, test_ref, 1e-9)
            run.log(f"  {name}: train {tr:.2f}%, test {te:.2f}%")
        cost_curve(ax, costs, "gradwise", f"{name}, lr 0.0075")
        ax.plot(list(_upto(published, iters)), list(_upto(published, iters).values()), "k+",
                ms=8, label="notebook")
        ax.legend(fontsize=8)
        curves[name], models[name] = costs, model
    run.savefig(fig, "costs")

    # the test pictures the four-layer network gets wrong (the notebook's print_mislabeled_images)
    deep = models["four-layer [12288, 20, 7, 5, 1]"]
    wrong = np.flatnonzero(predict(deep, X_test) != y_test)
    if len(wrong):
        labels = [f"{classes[int(p)]} (is {classes[int(t)]})"
                  for p, t in zip(predict(deep, X_test)[wrong], y_test[wrong])]
        show(x_test_images[wrong], labels, path=run.plot_path("mislabeled"), ncols=5,
             title="four-layer network: predicted (true) on the test pictures it gets wrong")
    run.record(costs=curves, mislabeled_test_indices=wrong.tolist())

