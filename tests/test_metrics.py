"""gradwise.train.metrics: hand-computed values and the textbook formulas."""
import numpy as np
import pytest

import gradwise as gw
from gradwise.train import metrics as M

# binary: TP = 2, FN = 2, FP = 1, TN = 5
Y_TRUE = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
Y_PRED = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])


def test_binary_scores_by_hand():
    assert M.accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.7)
    assert M.precision(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    assert M.recall(Y_TRUE, Y_PRED) == pytest.approx(0.5)
    assert M.f1(Y_TRUE, Y_PRED) == pytest.approx(4 / 7)  # 2 (2/3)(1/2) / (2/3 + 1/2)
    np.testing.assert_array_equal(M.confusion_matrix(Y_TRUE, Y_PRED, 2), [[5, 1], [2, 2]])
    # pos_label=0 scores the other class: TP = 5, FP = 2, FN = 1
    assert M.precision(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(5 / 7)
    assert M.recall(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(5 / 6)


def test_multiclass_by_hand():
    t = np.array([0, 0, 1, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0, 2])
    cm = M.confusion_matrix(t, p, num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])  # rows: truth
    assert M.accuracy(t, p) == pytest.approx(5 / 7)
    # per class precision 1/2, 2/3, 1; recall 1/2, 1, 2/3; f1 1/2, 4/5, 4/5
    assert M.precision(t, p, average="macro") == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert M.recall(t, p, average="macro") == pytest.approx((1 / 2 + 1 + 2 / 3) / 3)
    assert M.f1(t, p, average="macro") == pytest.approx((1 / 2 + 4 / 5 + 4 / 5) / 3)
    assert M.confusion_matrix(t, p).shape == (3, 3)  # classes inferred
    assert M.confusion_matrix(t, p, num_classes=5)[3:].sum() == 0


def test_outputs_become_labels():
    logits = np.array([[2.0, 1.0, 0.1], [0.0, 3.0, 1.0], [0.5, 0.2, 0.9], [1.0, 0.0, 0.0]])
    y = np.array([0, 1, 1, 2])
    assert M.accuracy(y, logits) == 0.5  # argmax 0, 1, 2, 0
    assert M.accuracy(gw.tensor(y), gw.tensor(logits)) == 0.5
    one_hot = np.eye(3)[y]
    assert M.accuracy(one_hot, logits) == 0.5
    probs = np.array([[0.9], [0.2], [0.6], [0.4]])
    y01 = np.array([[1.0], [0.0], [0.0], [1.0]])
    assert M.accuracy(y01, probs) == 0.5          # p > 0.5 -> 1, 0, 1, 0
    assert M.accuracy(y01.ravel(), probs.ravel()) == 0.5
    z = np.array([2.0, -1.0, 0.3, -0.2])          # binary logits: threshold at 0
    assert M.accuracy(y01.ravel(), z, threshold=0.0) == 0.5
    assert M.accuracy(np.array([True, False]), np.array([1, 0])) == 1.0


def test_against_the_formulas_on_random_labels():
    rng = np.random.default_rng(0)
    for C in (2, 3, 7):
        t, p = rng.integers(0, C, 500), rng.integers(0, C, 500)
        cm = np.zeros((C, C), dtype=int)
        for i, j in zip(t, p):
            cm[i, j] += 1
        np.testing.assert_array_equal(M.confusion_matrix(t, p, C), cm)
        assert M.accuracy(t, p) == pytest.approx(np.mean(t == p))
        P, R, F = [], [], []
        for c in range(C):
            tp = np.sum((p == c) & (t == c))
            fp = np.sum((p == c) & (t != c))
            fn = np.sum((p != c) & (t == c))
            P.append(tp / (tp + fp))
            R.append(tp / (tp + fn))
            F.append(2 * P[-1] * R[-1] / (P[-1] + R[-1]))
        assert M.precision(t, p, average="macro", num_classes=C) == pytest.approx(np.mean(P))
        assert M.recall(t, p, average="macro", num_classes=C) == pytest.approx(np.mean(R))
        assert M.f1(t, p, average="macro", num_classes=C) == pytest.approx(np.mean(F))
        if C == 2:
            assert M.precision(t, p) == pytest.approx(P[1])
            assert M.f1(t, p) == pytest.approx(F[1])


def test_zero_division_gives_zero_and_errors_are_clear():
    t = np.array([0, 0, 1])
    p = np.array([0, 0, 0])  # nothing predicted positive
    assert M.precision(t, p) == 0.0 and M.recall(t, p) == 0.0 and M.f1(t, p) == 0.0
    with pytest.raises(ValueError, match="3 targets but 2 predictions"):
        M.accuracy(t, p[:2])
    with pytest.raises(ValueError, match=r"outside \[0, 2\)"):
        M.confusion_matrix([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match="average"):
        M.precision(t, p, average="micro")
    with pytest.raises(ValueError, match="shape"):
        M.accuracy(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
