"""gradwise.diagnose: the course's bias/variance cases, mismatch, diagnosis of trained models,
learning curves, single-number evaluation and error analysis."""
import math

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim
from gradwise.datasets import make_circles, make_moons
from gradwise.diagnose import (
    RECIPE,
    choose,
    diagnose,
    diagnose_model,
    epoch_curve,
    error_rate,
    f1_score,
    inference_ms,
    learning_curve,
    most_confident_mistakes,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_mistakes,
    scores,
    top_confusions,
)
from gradwise.train import fit, predict

PNG = b"\x89PNG\r\n\x1a\n"


# ---- the course's four cases (human error ~0) -------------------------------------------------
@pytest.mark.parametrize("train, dev, verdict, dominant, bias, variance", [
    (0.01, 0.11, "high variance", "variance", False, True),
    (0.15, 0.16, "high bias", "bias", True, False),
    (0.15, 0.30, "high bias and high variance", "bias", True, True),
    (0.005, 0.01, "neither: low bias and low variance", "none", False, False),
])
def test_the_four_cases(train, dev, verdict, dominant, bias, variance):
    d = diagnose(train, dev, human_error=0.0)
    assert (d.verdict, d.dominant, d.high_bias, d.high_variance) == (verdict, dominant, bias, variance)
    assert d.avoidable_bias == pytest.approx(train) and d.variance == pytest.approx(dev - train)
    assert d.recommendations[:len(RECIPE[dominant])] == RECIPE[dominant] or dominant == "none"
    # without a human error, 0 is assumed and the report says so
    d0 = diagnose(train, dev)
    assert d0.verdict == verdict and not d0.human_given
    assert "(not given: 0 assumed)" in str(d0)


def test_recipe_order_one_knob_at_a_time():
    assert diagnose(0.15, 0.16).recommendations[0].startswith("Train a bigger network")
    assert diagnose(0.01, 0.11).recommendations[0].startswith("Get more training data")
    # both high: the bias recipe first (a model must fit its training set before it can generalize)
    d = diagnose(0.15, 0.30)
    assert d.problems == ["bias", "variance"] and d.recommendations[0].startswith("Train a bigger")
    text = str(d)
    assert "one knob at a time" in text
    assert any(line.split()[:3] == ["avoidable", "bias", "+15.00%"] and line.endswith("<- problem")
               for line in text.splitlines())
    # early stopping couples bias and variance: not in the recipe
    assert not any("early stopping" in r.lower() for r in RECIPE["bias"] + RECIPE["variance"])


def test_human_level_changes_the_focus():
    # the course's example: train 8%, dev 10%; with human 1% focus on bias, with 7.5% on variance
    d = diagnose(0.08, 0.10, human_error=0.01)
    assert d.dominant == "bias" and d.problems == ["bias", "variance"]
    assert d.avoidable_bias == pytest.approx(0.07)
    d = diagnose(0.08, 0.10, human_error=0.075)
    assert d.dominant == "variance" and not d.high_bias
    assert d.avoidable_bias == pytest.approx(0.005)
    # neither gap above tolerance: the report still names the larger one
    d = diagnose(0.007, 0.012, human_error=0.005)
    assert d.dominant == "none" and "the larger one is variance" in d.recommendations[0]


def test_dev_test_mismatch():
    d = diagnose(0.01, 0.02, human_error=0.0, test_error=0.08)
    assert d.dev_test_mismatch and d.dominant == "dev overfitting"
    assert d.dev_overfitting == pytest.approx(0.06)
    assert d.verdict == "dev/test mismatch"
    assert "different distributions" in str(d)
    assert d.recommendations[0].startswith("Get a bigger dev set")
    # a test error far *below* the dev error is a mismatch too
    assert diagnose(0.01, 0.08, test_error=0.01).dev_test_mismatch
    assert not diagnose(0.01, 0.02, test_error=0.025).dev_test_mismatch


def test_a_gap_must_exceed_its_sampling_error_when_the_sizes_are_known():
    sizes = {"train": 30, "dev": 1000, "test": 500}
    # 18% error on 1,000 dev and 500 test examples of one distribution: a 1.1-point gap is
    # what two samples show by chance (standard error 2.1 points), not a dev/test mismatch
    d = diagnose(0.0, 0.179, test_error=0.19, sizes=sizes)
    margin = 2 * math.sqrt(0.179 * 0.821 / 1000 + 0.19 * 0.81 / 500)
    assert d.margins["dev overfitting"] == pytest.approx(margin)
    assert not d.dev_test_mismatch and d.dominant == "variance"
    assert f"+1.10%  (sampling error ±{margin * 100:.2f}%)\n" in str(d)
    assert d.to_dict()["margins"] == pytest.approx(d.margins)
    # without sizes the tolerance alone decides, as in the course's tables
    assert diagnose(0.0, 0.179, test_error=0.19).dev_test_mismatch
    # beyond two standard errors it is a mismatch, either way round
    assert diagnose(0.0, 0.18, test_error=0.26, sizes=sizes).dev_test_mismatch
    assert diagnose(0.0, 0.26, test_error=0.18, sizes=sizes).dev_test_mismatch
    # variance: 1% vs 2.5% is high variance on 100,000 dev examples, noise on 200
    big = diagnose(0.01, 0.025, sizes={"train": 100_000, "dev": 100_000})
    assert big.high_variance and big.margins["variance"] < 0.01
    small = diagnose(0.01, 0.025, sizes={"train": 100_000, "dev": 200})
    assert not small.high_variance and small.dominant == "none"
    assert "No gap exceeds 1.00% and its sampling error" in small.recommendations[0]
    # avoidable bias: the human-level error counts as exact, the training error's size matters
    assert not diagnose(0.03, 0.03, human_error=0.0, sizes={"train": 100, "dev": 100}).high_bias
    assert diagnose(0.03, 0.03, human_error=0.0, sizes={"train": 10_000, "dev": 10_000}).high_bias
    # a train-dev set: variance is train-dev - train, mismatch dev - train-dev, each with its sizes
    d = diagnose(0.01, 0.10, train_dev_error=0.015, sizes={"train": 5000, "train_dev": 5000, "dev": 5000})
    assert d.dominant == "data mismatch" and not d.high_variance
    assert d.margins["data mismatch"] == pytest.approx(2 * math.sqrt(0.015 * 0.985 / 5000 + 0.1 * 0.9 / 5000))
    for bad, match in [({"val": 10}, "unknown key"), ({"dev": 0}, "positive number"),
                       ({"dev": 2.5}, "positive number"), ([100], "must be a dict")]:
        with pytest.raises((ValueError, TypeError), match=match):
            diagnose(0.1, 0.2, sizes=bad)


def test_train_dev_set_separates_variance_from_data_mismatch():
    # the course's table: train 1%, train-dev 1.5%, dev 10%: data mismatch, not variance
    d = diagnose(0.01, 0.10, human_error=0.0, train_dev_error=0.015)
    assert d.variance == pytest.approx(0.005) and d.data_mismatch == pytest.approx(0.085)
    assert d.dominant == "data mismatch" and d.data_mismatch_problem and not d.high_variance
    assert "artificial data synthesis" in " ".join(d.recommendations)
    # train 1%, train-dev 9%, dev 10%: variance
    d = diagnose(0.01, 0.10, train_dev_error=0.09)
    assert d.dominant == "variance" and not d.data_mismatch_problem
    # structured fields survive a trip to a dict
    assert d.to_dict()["gaps"] == pytest.approx({"bias": 0.01, "variance": 0.08, "data mismatch": 0.01})


def test_bad_errors_are_named():
    with pytest.raises(ValueError, match=r"dev_error must be an error rate in \[0, 1\], got 11.0 "
                                         r"\(errors are fractions: 11% is 0.11\)"):
        diagnose(1, 11)
    with pytest.raises(ValueError, match="human_error must be an error rate"):
        diagnose(0.1, 0.2, human_error=-0.1)
    with pytest.raises(TypeError, match="train_error must be a number"):
        diagnose("a", 0.2)
    with pytest.raises(ValueError, match="train_error and dev_error are required"):
        diagnose(None, 0.2)
    with pytest.raises(ValueError, match="tolerance"):
        diagnose(0.1, 0.2, tolerance=2)


# ---- diagnosing trained models ------------------------------------------------------------------
def _split(X, y, n_train):
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


def _net(hidden):
    layers, n = [], 2
    for h in hidden:
        layers += [nn.Linear(n, h, init="he_normal"), nn.ReLU()]
        n = h
    return nn.Sequential(*layers, nn.Linear(n, 2, init="he_normal"))


def test_a_linear_model_on_circles_has_high_bias():
    X, y = make_circles(600, noise=0.05, random_state=0, factor=0.5)
    train, dev = _split(X, y, 400)
    gw.manual_seed(0)
    model = _net([])  # logistic regression: no hidden layer can draw a circle
    fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.05), train, epochs=20, verbose=0)
    d = diagnose_model(model, train, dev, human_error=0.0)
    assert d.train_error == pytest.approx(error_rate(model, train))
    assert d.train_error > 0.3 and d.dominant == "bias"
    assert d.recommendations[0].startswith("Train a bigger network")
    # the bigger network the recipe asks for fixes it
    gw.manual_seed(0)
    model = _net([32, 32])
    fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.02), train, epochs=40, verbose=0)
    d = diagnose_model(model, train, dev, human_error=0.0)
    assert d.verdict == "neither: low bias and low variance", str(d)


def test_a_big_net_on_few_noisy_examples_has_high_variance():
    X, y = make_moons(1030, noise=0.35, random_state=1)
    train, dev = _split(X, y, 30)
    gw.manual_seed(0)
    model = _net([128, 128])
    fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.01), train, epochs=300,
        batch_size=30, verbose=0)
    d = diagnose_model(model, train, dev, (dev[0][:500], dev[1][:500]))
    assert d.train_error == 0.0 and d.dev_error > 0.1
    assert d.dominant == "variance" and d.recommendations[0].startswith("Get more training data")
    # dev and test come from one distribution here: the test half of the dev set differs from
    # it by sampling alone (about a point at this error), within the two standard errors
    # (about 4 points) that a gap between 1,000 and 500 examples must exceed to count
    assert not d.dev_test_mismatch, str(d)
    assert d.margins["dev overfitting"] > 0.03 and d.margins["variance"] < d.variance / 5
    # a custom error function and the split checks
    d = diagnose_model(model, train, dev, error=lambda m, s: 0.5)
    assert d.train_error == d.dev_error == 0.5
    with pytest.raises(ValueError, match="X has 30 examples but y has 29"):
        diagnose_model(model, (train[0], train[1][:-1]), dev)


# ---- learning curves ---------------------------------------------------------------------------
def _moons_splits():
    X, y = make_moons(700, noise=0.3, random_state=2)
    return _split(X, y, 500)


def test_learning_curve_over_training_set_size(tmp_path):
    train, dev = _moons_splits()

    def run(sizes):
        return learning_curve(lambda: _net([64, 64]), F.cross_entropy,
                              lambda p: optim.Adam(p, lr=0.01), train, dev, sizes=sizes,
                              epochs=40, batch_size=64, seed=3)

    curve = run((10, 0.2, 1.0))
    assert curve.x == [10, 100, 500]
    # few examples: fitted perfectly, poor on dev; the gap narrows with more data
    assert curve.train[0] == 0.0 and curve.dev[0] > curve.dev[-1]
    assert curve.dev[0] - curve.train[0] > curve.dev[-1] - curve.train[-1]
    assert len(curve.details[1]["history"]["loss"]) == 40
    again = run((10, 0.2))
    assert (again.train, again.dev) == (curve.train[:2], curve.dev[:2])  # same seed, same points
    d = curve.diagnose(human_error=0.0)
    assert d.train_error == curve.train[-1]
    path = plot_learning_curves(curve, tmp_path / "size.png", human_error=0.05)
    assert path.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="sizes must increase"):
        learning_curve(lambda: _net([4]), F.cross_entropy, lambda p: optim.SGD(p, lr=0.1), train,
                       dev, sizes=(100, 50))
    with pytest.raises(ValueError, match=r"size 501 is outside \[1, 500\]"):
        learning_curve(lambda: _net([4]), F.cross_entropy, lambda p: optim.SGD(p, lr=0.1), train,
                       dev, sizes=(501,))


def test_epoch_curve_from_a_history(tmp_path):
    train, dev = _moons_splits()
    gw.manual_seed(0)
    model = _net([16])
    h = fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.01), train, val_data=dev,
            epochs=5, verbose=0)
    c = epoch_curve(h)
    assert c.x == [1, 2, 3, 4, 5] and c.ylabel == "error"
    assert c.train == pytest.approx([1 - a for a in h.history["accuracy"]])
    assert c.dev == pytest.approx([1 - a for a in h.history["val_accuracy"]])
    loss = epoch_curve(h, metric="loss")
    assert loss.train == h.history["loss"] and loss.ylabel == "loss"
    path = plot_learning_curves([c, h, loss], tmp_path / "epochs.png", title="moons")
    assert path.read_bytes()[:8] == PNG
    with pytest.raises(KeyError, match="'f1' was not recorded"):
        epoch_curve(h, metric="f1")
    with pytest.raises(ValueError, match="not an error rate"):
        loss.diagnose()


# ---- single-number evaluation ----------------------------------------------------------------------
def test_f1_of_the_course_classifiers():
    assert f1_score(0.95, 0.90) == pytest.approx(0.9243, abs=1e-4)   # classifier A: 92.4%
    assert f1_score(0.98, 0.85) == pytest.approx(0.9104, abs=1e-4)   # classifier B: 91.0%
    assert f1_score(0.0, 0.0) == 0.0
    with pytest.raises(ValueError, match="precision must be in"):
        f1_score(95, 90)


def test_scores_match_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 2, 200), rng.integers(0, 2, 200)
    s = scores(t, p)
    assert s["f1"] == pytest.approx(metrics.f1_score(t, p))
    assert s["precision"] == pytest.approx(metrics.precision_score(t, p))
    assert s["error"] == pytest.approx(1 - metrics.accuracy_score(t, p))


def test_choose_optimizing_subject_to_satisficing():
    runs = {"A": {"accuracy": 0.90, "runtime_ms": 80}, "B": {"accuracy": 0.92, "runtime_ms": 95},
            "C": {"accuracy": 0.95, "runtime_ms": 1500}}
    c = choose(runs, optimizing="accuracy", satisficing={"runtime_ms": "<= 100"})
    assert c.best == "B" and c.mode == "max"
    assert [r["name"] for r in c.rows] == ["B", "A", "C"]
    assert c.rows[-1]["violates"] == ["runtime_ms <= 100"]
    assert "Chosen: B" in str(c) and c.best_metrics["runtime_ms"] == 95
    # without the constraint, the most accurate; constraints as pairs and functions
    assert choose(runs, "accuracy").best == "C"
    assert choose(runs, "accuracy", {"runtime_ms": ("<", 90)}).best == "A"
    assert choose(runs, "accuracy", {"runtime_ms": lambda v: v > 1000}).best == "C"
    # errors are minimized; a list of runs is named by 'name'
    listed = [{"name": "x", "dev_error": 0.1, "size_mb": 5}, {"name": "y", "dev_error": 0.05, "size_mb": 50}]
    assert choose(listed, "dev_error").best == "y"
    assert choose(listed, "dev_error", {"size_mb": "<= 10"}).best == "x"
    assert choose(listed, "dev_error", {"size_mb": "<= 1"}).best is None


def test_choose_errors():
    with pytest.raises(ValueError, match="cannot read the constraint '<< 3'"):
        choose({"a": {"m": 1}}, "m", {"m": "<< 3"})
    with pytest.raises(KeyError, match="run 'a' has no 'acc'"):
        choose({"a": {"m": 1}}, "acc")
    with pytest.raises(KeyError, match="no 'ms' for the constraint"):
        choose({"a": {"m": 1}}, "m", {"ms": "< 3"})
    with pytest.raises(ValueError, match="no runs"):
        choose({}, "m")


def test_inference_ms_times_predict():
    gw.manual_seed(0)
    model = _net([16])
    X = np.zeros((20, 2), np.float32)
    ms = inference_ms(model, X, batch_size=1, repeats=2)
    assert 0 < ms < 1000
    with pytest.raises(ValueError, match="repeats and batch_size must be >= 1"):
        inference_ms(model, X, repeats=0)


# ---- error analysis ---------------------------------------------------------------------------------
def test_most_confident_mistakes_from_probabilities_and_logits():
    P = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.04, 0.04, 0.92], [0.6, 0.3, 0.1],
                  [0.1, 0.1, 0.8]])
    y = np.array([1, 1, 0, 2, 2])
    m = most_confident_mistakes(P, y, k=10, from_logits=False)
    assert [(x.index, x.true, x.predicted) for x in m] == [(2, 0, 2), (0, 1, 0), (3, 2, 0)]
    assert [x.confidence for x in m] == pytest.approx([0.92, 0.9, 0.6])
    logits = np.log(P + 1e-12) + 3.0  # the same ranking through a softmax
    assert [x.index for x in most_confident_mistakes(logits, y, from_logits=True)] == [2, 0, 3]
    assert len(most_confident_mistakes(P, y, k=1, from_logits=False)) == 1
    # binary: probabilities (m, 1) or logits (m,)
    p = np.array([[0.95], [0.2], [0.6], [0.01]])
    yb = np.array([0, 0, 1, 1])
    assert [(x.index, round(x.confidence, 2))
            for x in most_confident_mistakes(p, yb, from_logits=False)] == [(3, 0.99), (0, 0.95)]
    z = np.array([3.0, -1.0, 0.5, -5.0])
    assert [x.index for x in most_confident_mistakes(z, yb, from_logits=True)] == [3, 0]
    with pytest.raises(ValueError, match="5 outputs but 4 labels"):
        most_confident_mistakes(P, y[:4], from_logits=False)
    with pytest.raises(TypeError, match="from_logits must be True or False"):
        most_confident_mistakes(P, y, from_logits="no")


def test_binary_logits_inside_0_1_are_not_read_as_probabilities():
    # logits that happen to lie in [0, 1]: all positive (sigmoid > 0.5), so all predicted 1
    z = np.array([0.1, 0.3, 0.45, 0.2])
    y = np.array([1, 1, 0, 0])
    mistakes = most_confident_mistakes(z, y, from_logits=True)
    assert [(x.index, x.predicted) for x in mistakes] == [(2, 1), (3, 1)]
    assert mistakes[0].confidence == pytest.approx(1 / (1 + np.exp(-0.45)))
    assert top_confusions(y, z, from_logits=True) == [
        {"true": 0, "predicted": 1, "count": 2, "share_of_errors": 1.0}]
    assert top_confusions(y, z, from_logits=False) == [
        {"true": 1, "predicted": 0, "count": 2, "share_of_errors": 1.0}]
    # never guessed from the values: saying nothing is an error that asks
    for call in (lambda: most_confident_mistakes(z, y), lambda: top_confusions(y, z),
                 lambda: most_confident_mistakes(np.array([[2.0, 1.0], [0.0, 3.0]]), y[:2])):
        with pytest.raises(ValueError, match="from_logits=True .*from_logits=False"):
            call()
    # labels and (m, C) scores need no threshold
    assert top_confusions(y, np.array([0, 1, 1, 1]))[0]["count"] == 2


def test_mistake_grid_confusion_plot_and_top_confusions(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (30, 8, 8)).astype(np.float32)
    y = np.arange(30) % 3
    out = np.eye(3)[(y + (np.arange(30) % 5 == 0)) % 3] * 0.8 + 0.1  # every 5th is wrong
    mistakes = most_confident_mistakes(out, y, from_logits=False)
    assert [x.index for x in mistakes] == [0, 5, 10, 15, 20, 25]
    path = plot_mistakes(images, mistakes, tmp_path / "mistakes.png", class_names=["a", "b", "c"])
    assert path.read_bytes()[:8] == PNG
    top = top_confusions(y, out, class_names=["a", "b", "c"])
    assert sum(t["count"] for t in top) == 6 and top[0]["share_of_errors"] == pytest.approx(2 / 6)
    assert {(t["true"], t["predicted"]) for t in top} == {("a", "b"), ("b", "c"), ("c", "a")}
    for normalize in (False, True):
        p = plot_confusion_matrix(y, out, tmp_path / f"cm{normalize}.png", class_names=["a", "b", "c"],
                                  normalize=normalize)
        assert p.read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="no mistakes"):
        plot_mistakes(images, [], tmp_path / "none.png")


def test_error_analysis_on_a_trained_model(tmp_path):
    train, dev = _moons_splits()
    gw.manual_seed(0)
    model = _net([16])
    fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.01), train, epochs=5, verbose=0)
    out = predict(model, dev[0])
    mistakes = most_confident_mistakes(out, dev[1], k=5, from_logits=True)
    wrong = np.flatnonzero(out.argmax(1) != dev[1])
    assert len(mistakes) == min(5, len(wrong)) and all(m.index in wrong for m in mistakes)
    confidences = [m.confidence for m in mistakes]
    assert confidences == sorted(confidences, reverse=True) and confidences[0] > 0.5
