"""Face verification: distances, the triplet loss and its mining (hand-computed values,
gradchecks, a brute-force reference, PyTorch), ROC/AUC against scikit-learn, the threshold,
the database for verification and recognition, P x K batches, the embedding network, and
the one-shot demonstration on MNIST at a size that fits CI."""
import json

import numpy as np
import pytest
from shared_data import DATA, needs_mnist

import gradwise as gw
from gradwise import nn
from gradwise.check import gradcheck
from gradwise.vision.face import (
    EmbeddingNet,
    FaceDatabase,
    PKBatches,
    Siamese,
    TripletLoss,
    auc,
    batch_hard_triplets,
    batch_triplet_loss,
    best_threshold,
    embed,
    l2_normalize,
    pairwise_squared_distances,
    roc_curve,
    semi_hard_triplets,
    squared_distance,
    triplet_loss,
    verification_accuracy,
)


@pytest.fixture(autouse=True)
def _seed():
    gw.manual_seed(0)


def t64(a, requires_grad=False):
    return gw.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# ---- distances --------------------------------------------------------------------------------
def test_distances_by_hand():
    E = t64([[0, 0], [3, 4], [1, 0]])
    np.testing.assert_allclose(pairwise_squared_distances(E).data,
                               [[0, 25, 1], [25, 0, 20], [1, 20, 0]], atol=1e-12)
    np.testing.assert_allclose(squared_distance(E, t64([[0, 1], [0, 0], [1, 0]])).data, [1, 25, 0])


def test_pairwise_distances_equal_the_direct_differences():
    rng = np.random.default_rng(0)
    E = rng.standard_normal((7, 5))
    direct = ((E[:, None] - E[None]) ** 2).sum(-1)
    np.testing.assert_allclose(pairwise_squared_distances(t64(E)).data, direct, atol=1e-12)
    assert (pairwise_squared_distances(t64(np.ones((3, 4)))).data >= 0).all()


def test_l2_normalize_gives_unit_rows():
    Z = t64([[3, 4], [0, 2]])
    np.testing.assert_allclose(l2_normalize(Z).data, [[0.6, 0.8], [0, 1]])


@pytest.mark.parametrize("fn, shapes", [
    (l2_normalize, [(4, 3)]),
    (squared_distance, [(4, 3), (4, 3)]),
    (pairwise_squared_distances, [(5, 3)]),
])
def test_distance_gradcheck(fn, shapes):
    rng = np.random.default_rng(1)
    gradcheck(fn, [rng.standard_normal(s) for s in shapes])


# ---- the triplet loss -------------------------------------------------------------------------
def test_triplet_loss_by_hand():
    A = t64([[0, 0], [0, 0]])
    P = t64([[1, 0], [0, 2]])       # d(A, P) = 1, 4
    N = t64([[2, 0], [1, 1]])       # d(A, N) = 4, 2
    # max(1 - 4 + 0.2, 0) = 0 and max(4 - 2 + 0.2, 0) = 2.2
    np.testing.assert_allclose(triplet_loss(A, P, N, 0.2, "none").data, [0.0, 2.2])
    assert float(triplet_loss(A, P, N, 0.2, "sum").data) == pytest.approx(2.2)
    assert float(triplet_loss(A, P, N, 0.2).data) == pytest.approx(1.1)
    assert float(triplet_loss(A, P, N, 0.0, "sum").data) == pytest.approx(2.0)


def test_triplet_loss_passes_the_courses_checks_negative_margin_included():
    # the course's style of triplet_loss checks (its function sums over the triplets)
    def L(A, P, N, alpha):
        return float(triplet_loss(*(t64(x) for x in (A, P, N)), alpha, reduction="sum").data)

    assert L([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 5) == 5.0
    assert L([1.0, 1.0], [1.0, 1.0], [0.0, 0.0], 3) == 1.0
    assert L([1.0, 1.0], [0.0, 0.0], [1.0, 1.0], 0) == 2.0
    assert L([0.0, 0.0], [0.0, 0.0], [0.0, 0.0], -2) == 0.0
    assert L([[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]], 3) == 2.0
    # rows: max(5 - 1 + 1, 0) = 5 and max(2 - 5 + 1, 0) = 0
    assert L([[1.0, 1.0], [2.0, 0.0]], [[0.0, 3.0], [1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], 1) == 5.0


def test_a_negative_margin_tolerates_positives_slightly_farther_than_negatives():
    A, P, N = t64([[0.0, 0.0]] * 2), t64([[1.0, 0.0], [2.0, 0.0]]), t64([[0.0, 0.5], [0.0, 0.5]])
    # d(A, P) - d(A, N) = 0.75 and 3.75: with alpha = -1 only the second costs, 2.75
    np.testing.assert_allclose(triplet_loss(A, P, N, -1.0, "none").data, [0.0, 2.75])
    # batch-hard triplets of E_HAND (d(a, p), d(a, n)): (1, 2.25), (1, 0.25), (6.25, 0.25), (6.25, 9)
    L = batch_triplet_loss(t64(E_HAND), Y_HAND, alpha=-0.5, mining="batch_hard", reduction="none")
    np.testing.assert_allclose(L.data, [0.0, 0.25, 5.5, 0.0])


def test_triplet_loss_gradcheck():
    rng = np.random.default_rng(2)
    A, P, N = (rng.standard_normal((6, 4)) for _ in range(3))
    # keep every triplet away from the kink of max(., 0)
    basic = ((A - P) ** 2).sum(1) - ((A - N) ** 2).sum(1) + 0.2
    assert np.abs(basic).min() > 1e-3
    gradcheck(lambda a, p, n: triplet_loss(a, p, n, 0.2), [A, P, N])
    gradcheck(lambda a, p, n: triplet_loss(a, p, n, 0.5, "none"), [A, P, N])


def test_triplet_loss_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    A, P, N = (rng.standard_normal((8, 5)) for _ in range(3))
    ours = [t64(x, True) for x in (A, P, N)]
    L = triplet_loss(*ours, alpha=0.3)
    L.backward()
    theirs = [torch.tensor(x, requires_grad=True) for x in (A, P, N)]
    Lt = torch.nn.functional.triplet_margin_with_distance_loss(
        *theirs, distance_function=lambda a, b: (a - b).pow(2).sum(-1), margin=0.3)
    Lt.backward()
    assert float(L.data) == pytest.approx(Lt.item(), rel=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---- mining -----------------------------------------------------------------------------------
# 1-D embeddings 0, 1, 1.5, 4 with labels 0, 0, 1, 1:
#   d01 = 1, d02 = 2.25, d03 = 16, d12 = 0.25, d13 = 9, d23 = 6.25
E_HAND = [[0.0], [1.0], [1.5], [4.0]]
Y_HAND = [0, 0, 1, 1]


def test_batch_hard_by_hand():
    D = pairwise_squared_distances(t64(E_HAND)).data
    a, p, n = batch_hard_triplets(D, np.array(Y_HAND))
    # farthest positive, closest negative of each anchor
    assert a.tolist() == [0, 1, 2, 3] and p.tolist() == [1, 0, 3, 2] and n.tolist() == [2, 2, 1, 1]
    # 1 - 2.25, 1 - 0.25, 6.25 - 0.25, 6.25 - 9 (+ 0.2, then max(., 0)): 0, 0.95, 6.2, 0
    L = batch_triplet_loss(t64(E_HAND), Y_HAND, 0.2, "batch_hard")
    assert float(L.data) == pytest.approx((0.95 + 6.2) / 4)


def test_semi_hard_by_hand():
    D = pairwise_squared_distances(t64(E_HAND)).data
    a, p, n = semi_hard_triplets(D, np.array(Y_HAND))
    assert list(zip(a, p)) == [(0, 1), (1, 0), (2, 3), (3, 2)]
    # (0,1): negatives 2.25, 16 lie beyond d = 1: the closer, 2.  (1,0): 0.25 < 1 < 9: 3.
    # (2,3): d = 6.25, negatives 2.25, 0.25 all closer: the farthest, 0.  (3,2): 16, 9: 1.
    assert n.tolist() == [2, 3, 0, 1]
    L = batch_triplet_loss(t64(E_HAND), Y_HAND, 0.2, "semi_hard")
    assert float(L.data) == pytest.approx((6.25 - 2.25 + 0.2) / 4)


def _brute_force(D, y, mining):
    """The mining rules written as loops over every anchor, positive and negative."""
    out = []
    m = len(y)
    for a in range(m):
        pos = [p for p in range(m) if p != a and y[p] == y[a]]
        neg = [n for n in range(m) if y[n] != y[a]]
        if not pos or not neg:
            continue
        if mining == "batch_hard":
            out.append((a, max(pos, key=lambda p: D[a, p]), min(neg, key=lambda n: D[a, n])))
            continue
        for p in pos:
            beyond = [n for n in neg if D[a, n] > D[a, p]]
            out.append((a, p, min(beyond, key=lambda n: D[a, n]) if beyond
                        else max(neg, key=lambda n: D[a, n])))
    return out


@pytest.mark.parametrize("mining", ["batch_hard", "semi_hard"])
def test_mining_matches_brute_force(mining):
    rng = np.random.default_rng(4)
    miner = batch_hard_triplets if mining == "batch_hard" else semi_hard_triplets
    for trial in range(20):
        m = int(rng.integers(2, 14))
        y = rng.integers(0, 4, m)
        D = pairwise_squared_distances(t64(rng.standard_normal((m, 3)))).data
        got = list(zip(*[v.tolist() for v in miner(D, y)]))
        assert got == _brute_force(D, y, mining), (trial, y)


@pytest.mark.parametrize("mining", ["batch_hard", "semi_hard"])
def test_batch_loss_is_the_triplet_loss_of_the_mined_triplets(mining):
    rng = np.random.default_rng(5)
    E, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    D = pairwise_squared_distances(t64(E)).data
    a, p, n = (batch_hard_triplets if mining == "batch_hard" else semi_hard_triplets)(D, y)
    direct = triplet_loss(t64(E[a]), t64(E[p]), t64(E[n]), 0.3)
    assert float(batch_triplet_loss(t64(E), y, 0.3, mining).data) == pytest.approx(float(direct.data))
    assert float(TripletLoss(0.3, mining)(t64(E), y).data) == pytest.approx(float(direct.data))


@pytest.mark.parametrize("mining", ["batch_hard", "semi_hard"])
def test_batch_triplet_loss_gradcheck(mining):
    rng = np.random.default_rng(6)
    y = np.repeat(np.arange(3), 3)
    E = rng.standard_normal((9, 3))
    # the mined triplets must not change under gradcheck's perturbations: distinct distances
    D = pairwise_squared_distances(t64(E)).data
    gaps = np.diff(np.sort(D[np.triu_indices(9, 1)]))
    assert gaps.min() > 1e-4
    L = batch_triplet_loss(t64(E), y, 1.0, mining, "none").data
    assert (L > 0).any()
    gradcheck(lambda e: batch_triplet_loss(e, y, 1.0, mining), [E])
    gradcheck(lambda e: batch_triplet_loss(l2_normalize(e), y, 0.5, mining), [E])


def test_a_batch_without_triplets_gives_zero_and_backpropagates():
    E = t64(np.random.default_rng(7).standard_normal((4, 3)), requires_grad=True)
    for y in ([1, 1, 1, 1], [0, 1, 2, 3]):               # no negative / no positive
        L = batch_triplet_loss(E, y)
        assert float(L.data) == 0.0
        E.grad = None
        L.backward()
        np.testing.assert_array_equal(E.grad, 0.0)


def test_plain_distances_match_torch_triplet_margin_loss():
    """squared=False is PyTorch's TripletMarginLoss: max(||A - P|| - ||A - N|| + alpha, 0)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)
    A, P, N = (rng.standard_normal((8, 5)) for _ in range(3))
    ours = [t64(x, True) for x in (A, P, N)]
    L = triplet_loss(*ours, alpha=1.0, squared=False)
    L.backward()
    theirs = [torch.tensor(x, requires_grad=True) for x in (A, P, N)]
    Lt = torch.nn.functional.triplet_margin_with_distance_loss(
        *theirs, distance_function=lambda a, b: (a - b).pow(2).sum(-1).sqrt(), margin=1.0)
    Lt.backward()
    assert 0 < float(L.data) == pytest.approx(Lt.item(), rel=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    # torch's default (eps 1e-6 added to the difference) agrees to that eps
    default = torch.nn.TripletMarginLoss(margin=1.0)(*(torch.tensor(x) for x in (A, P, N)))
    assert float(L.data) == pytest.approx(default.item(), abs=1e-5)


@pytest.mark.parametrize("mining", ["batch_hard", "semi_hard"])
def test_plain_distance_losses_gradcheck(mining):
    rng = np.random.default_rng(14)
    A, P, N = (rng.standard_normal((6, 4)) for _ in range(3))
    gradcheck(lambda a, p, n: triplet_loss(a, p, n, 0.5, squared=False), [A, P, N])
    y = np.repeat(np.arange(3), 3)
    E = rng.standard_normal((9, 3))
    D = np.sqrt(pairwise_squared_distances(t64(E)).data)
    assert np.diff(np.sort(D[np.triu_indices(9, 1)])).min() > 1e-4   # triplets stay mined
    L = batch_triplet_loss(t64(E), y, 1.0, mining, "none", squared=False).data
    assert (L > 0).any()
    # the triplets mined on squared distances, their plain distances
    np.testing.assert_allclose(L, np.maximum(_plain_reference(E, y, mining, 1.0), 0.0))
    gradcheck(lambda e: batch_triplet_loss(e, y, 1.0, mining, squared=False), [E])


def _plain_reference(E, y, mining, alpha):
    from gradwise.vision.face import batch_hard_triplets, semi_hard_triplets

    D2 = ((E[:, None] - E[None]) ** 2).sum(-1)
    a, p, n = (batch_hard_triplets if mining == "batch_hard" else semi_hard_triplets)(D2, y)
    D = np.sqrt(D2)
    return D[a, p] - D[a, n] + alpha


def test_plain_distance_of_merged_embeddings_has_a_finite_gradient():
    """sqrt has an infinite slope at 0: identical embeddings must not give NaN gradients."""
    E = t64(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), requires_grad=True)
    for mining in ("batch_hard", "semi_hard"):
        E.grad = None
        L = batch_triplet_loss(E, [0, 0, 1, 1], 0.5, mining, squared=False)
        L.backward()
        assert np.isfinite(float(L.data)) and np.isfinite(E.grad).all()
    assert repr(TripletLoss(0.1, "batch_hard", squared=False)) == (
        "TripletLoss(alpha=0.1, mining='batch_hard', squared=False)")


def test_triplet_errors_name_the_problem():
    E = t64(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        batch_triplet_loss(E, [0, 1, 0])
    with pytest.raises(TypeError, match="integers"):
        batch_triplet_loss(E, [0.0, 1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="mining must be one of"):
        batch_triplet_loss(E, [0, 1, 0, 1], mining="hardest")
    for bad in (float("nan"), float("inf"), "0.2", None):
        with pytest.raises(ValueError, match="margin alpha must be a finite number"):
            TripletLoss(alpha=bad)
        with pytest.raises(ValueError, match="margin alpha must be a finite number"):
            triplet_loss(E, E, E, alpha=bad)
    with pytest.raises(ValueError, match="reduction"):
        batch_triplet_loss(E, [0, 1, 0, 1], reduction="avg")
    with pytest.raises(ValueError, match=r"\(m, d\) of one shape"):
        triplet_loss(E, E, t64(np.zeros((3, 3))))
    with pytest.raises(ValueError, match=r"must be \(m, d\)"):
        batch_triplet_loss(t64(np.zeros(4)), [0, 1, 0, 1])


# ---- ROC, AUC, threshold ----------------------------------------------------------------------
def test_roc_and_auc_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(8)
    for _ in range(10):
        same = rng.random(60) < 0.4
        d = np.round(rng.random(60) + 0.5 * ~same, 1)      # rounding makes ties
        fpr, tpr, thr = roc_curve(d, same)
        assert auc(fpr, tpr) == pytest.approx(metrics.roc_auc_score(same, -d), abs=1e-12)
        # every point of scikit-learn's curve lies on ours
        sk_fpr, sk_tpr, _ = metrics.roc_curve(same, -d, drop_intermediate=False)
        ours = set(zip(np.round(fpr, 12), np.round(tpr, 12)))
        assert set(zip(np.round(sk_fpr, 12), np.round(sk_tpr, 12))) <= ours
        assert np.all(np.diff(thr) > 0)


def test_roc_by_hand():
    fpr, tpr, thr = roc_curve([0.1, 0.4, 0.4, 0.9], [True, True, False, False])
    np.testing.assert_allclose(thr, [-np.inf, 0.1, 0.4, 0.9])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    assert auc(fpr, tpr) == pytest.approx(0.5 * (0.5 + 1) / 2 + 0.5 * 1)    # two trapezoids
    assert auc([0, 1], [0, 1]) == pytest.approx(0.5)


def test_best_threshold_by_hand():
    d = [0.1, 0.2, 0.3, 0.6, 0.7, 0.25]
    same = [1, 1, 1, 0, 0, 0]
    t, acc = best_threshold(d, same)
    # accepting d <= 0.2 or d <= 0.3 both get 5 of 6 right; the first is halfway to 0.25
    assert t == pytest.approx(0.225) and acc == pytest.approx(5 / 6)
    assert verification_accuracy(d, same, t) == pytest.approx(acc)
    t, acc = best_threshold([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])
    assert t == pytest.approx(0.5) and acc == 1.0
    assert best_threshold([0.5, 0.6], [0, 1])[1] == 0.5


def test_roc_errors():
    with pytest.raises(ValueError, match="both same and different"):
        roc_curve([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="3 distances but 2"):
        roc_curve([0.1, 0.2, 0.3], [1, 0])
    with pytest.raises(ValueError, match="NaN"):
        roc_curve([0.1, np.nan], [1, 0])
    with pytest.raises(ValueError, match="booleans or 0/1"):
        roc_curve([0.1, 0.2], [2, 0])


# ---- the database -----------------------------------------------------------------------------
class _Pixels(nn.Module):
    """f(x) = x flattened, scaled to unit length: distances one can work out by hand."""

    input_shape = (1, 1, 2)

    def forward(self, X):
        return l2_normalize(X.reshape(X.shape[0], -1))


def test_database_verify_and_identify():
    db = FaceDatabase(_Pixels(), threshold=0.5)
    db.add("right", np.array([[[1.0, 0.0]]]))              # one example each
    db.add("up", np.array([[[0.0, 1.0]]]))
    assert len(db) == 2 and "up" in db
    # (0.8, 0.6) is at d = 0.2^2 + 0.6^2 = 0.4 from right and 0.8^2 + 0.4^2 = 0.8 from up
    q = np.array([[[0.8, 0.6]]])
    d, ok = db.verify(q, "right")
    assert d == pytest.approx(0.4) and ok
    d, ok = db.verify(q, "up")
    assert d == pytest.approx(0.8) and not ok
    assert db.identify(q) == ("right", pytest.approx(0.4))
    # (-1, 0) is far from both: not in the database
    name, d = db.identify(np.array([[[-1.0, 0.0]]]))
    assert name is None and d == pytest.approx(2.0)
    batch = db.identify(np.array([[[0.8, 0.6]]], dtype=np.float64)[None].repeat(2, 0))
    assert [n for n, _ in batch] == ["right", "right"]
    # a second example of an identity: the nearest one counts
    db.add("up", np.array([[[-1.0, 0.0]]]))
    assert db.identify(np.array([[[-1.0, 0.0]]]))[0] == "up"


def test_database_errors():
    db = FaceDatabase(_Pixels(), threshold=0.5)
    with pytest.raises(ValueError, match="empty"):
        db.identify(np.zeros((1, 1, 2)))
    db.add("a", np.array([[[1.0, 0.0]]]))
    with pytest.raises(KeyError, match="'b' is not in the database"):
        db.verify(np.array([[[1.0, 0.0]]]), "b")
    with pytest.raises(ValueError, match=r"expected an image \(C, H, W\) = \(1, 1, 2\)"):
        db.identify(np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="threshold"):
        FaceDatabase(_Pixels(), threshold=float("nan"))


# ---- batches, the network ---------------------------------------------------------------------
def test_pk_batches():
    y = np.repeat(np.arange(6), [10, 10, 10, 10, 10, 3])     # class 5 has only 3 images
    X = np.arange(len(y), dtype=np.float32)[:, None]
    batches = PKBatches(X, y, P=3, K=4)
    assert len(batches) == len(y) // 12
    seen = set()
    for Xb, yb in batches:
        assert Xb.shape == (12, 1)
        np.testing.assert_array_equal(y[Xb[:, 0].astype(int)], yb)     # images match labels
        counts = np.unique(yb, return_counts=True)[1]
        assert len(counts) == 3 and (counts == 4).all()
        seen.update(yb.tolist())
    gw.manual_seed(1)
    first = [b[1].tolist() for b in batches]
    gw.manual_seed(1)
    assert [b[1].tolist() for b in batches] == first            # seeded
    assert [b[1].tolist() for b in batches] != first            # fresh batches each pass
    with pytest.raises(ValueError, match="only 6"):
        PKBatches(X, y, P=7, K=2)
    with pytest.raises(ValueError, match="K must be >= 2"):
        PKBatches(X, y, P=2, K=1)


def test_embedding_net_and_siamese():
    net = EmbeddingNet((1, 28, 28), embedding_dim=16, channels=(4, 8))
    X = gw.randn(5, 1, 28, 28)
    E = net(X)
    assert E.shape == (5, 16)
    np.testing.assert_allclose(np.linalg.norm(E.data, axis=1), 1.0, rtol=1e-5)
    siamese = Siamese(net)
    net.eval()
    d = siamese(X, X[::-1])
    En = embed(siamese, X.data)
    np.testing.assert_allclose(d.data, ((En - En[::-1]) ** 2).sum(1), rtol=1e-4, atol=1e-6)
    assert list(siamese.parameters()) == list(net.parameters())   # one set of weights
    with pytest.raises(ValueError, match=r"EmbeddingNet: expected images \(N, 1, 28, 28\)"):
        net(gw.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="too small"):
        EmbeddingNet((1, 4, 4), channels=(4, 4, 4))


def test_embedding_net_without_projection_and_with_dropout():
    net = EmbeddingNet((1, 28, 28), embedding_dim=None, channels=(4, 8), dropout=0.5)
    assert net.embedding_dim == 8 * 7 * 7                      # 28 -> 14 -> 7, 8 channels
    X = gw.randn(6, 1, 28, 28)
    E1, E2 = net(X).data, net(X).data
    np.testing.assert_allclose(np.linalg.norm(E1, axis=1), 1.0, rtol=1e-5)
    assert (E1 >= 0).all()                                     # after a ReLU: d in [0, 2]
    assert not np.allclose(E1, E2)                             # dropout draws in training
    net.eval()
    np.testing.assert_array_equal(net(X).data, net(X).data)    # and is off in eval mode
    # embed() runs the same ops under no_grad, in batches of its own: equal to float32
    # rounding (BLAS may block a GEMM differently for another number of rows)
    np.testing.assert_allclose(embed(net, X.data), net(X).data, rtol=1e-6, atol=1e-7)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="embedding_dim must be a positive int or None"):
            EmbeddingNet(embedding_dim=bad)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        EmbeddingNet(dropout=1.0)


def test_training_pulls_positives_together():
    """Two classes of noisy prototypes: a few semi-hard steps separate them."""
    from gradwise import optim
    from gradwise.train import fit

    rng = np.random.default_rng(9)
    protos = rng.random((4, 1, 8, 8)).astype(np.float32)
    y = np.repeat(np.arange(4), 16)
    X = protos[y] + 0.3 * rng.standard_normal((64, 1, 8, 8)).astype(np.float32)
    net = EmbeddingNet((1, 8, 8), embedding_dim=8, channels=(8,))
    loss_fn = TripletLoss(0.5, "semi_hard")
    before = float(loss_fn(gw.tensor(embed(net, X)), y).data)
    hist = fit(net, loss_fn, optim.Adam(net.parameters(), lr=0.01), PKBatches(X, y, 4, 8),
               epochs=15, metrics=(), verbose=0)
    E = embed(net, X)
    after = float(loss_fn(gw.tensor(E), y).data)
    assert after < 0.25 * before and hist.history["loss"][-1] < hist.history["loss"][0]
    D = ((E[:, None] - E[None]) ** 2).sum(-1)
    same = y[:, None] == y[None]
    off = ~np.eye(64, dtype=bool)
    assert D[same & off].mean() < 0.5 * D[~same].mean()


# ---- the one-shot demonstration on MNIST ------------------------------------------------------
@needs_mnist
def test_one_shot_demo_beats_pixels_on_unseen_classes(tmp_path):
    from gradwise.vision.face.one_shot import one_shot_demo, plot_roc, save_result

    result, _ = one_shot_demo("mnist", epochs=1, train_images=1500, n_pairs=2000, draws=5,
                                data_dir=DATA, verbose=0)
    assert result.unseen_classes == [5, 6, 7, 8, 9] and result.train_images == 1500
    assert 0.5 <= result.test_auc <= 1.0 and result.test_auc > result.pixel_test_auc
    assert result.one_shot_accuracy > 0.2                      # chance is 1 in 5
    assert len(result.roc["fpr"]) == len(result.roc["tpr"])
    png, js = plot_roc(result, tmp_path / "roc.png"), save_result(result, tmp_path / "r.json")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(js.read_text())["test_auc"] == pytest.approx(result.test_auc)


@needs_mnist
def test_softmax_baseline_trains_the_same_embedding_net():
    from gradwise.vision.face.one_shot import SoftmaxBaseline, one_shot_demo

    net = EmbeddingNet(channels=(4, 8), embedding_dim=16)
    result, trained = one_shot_demo("mnist", train_classes=(0, 3, 6), epochs=1,
                                    train_images=600, loss="softmax", n_pairs=500, draws=2,
                                    data_dir=DATA, verbose=0, net=net)
    assert trained is net and result.loss == "softmax" and result.embedding_dim == 16
    assert result.unseen_classes == [1, 2, 4, 5, 7, 8, 9]
    assert 0.0 <= result.history["accuracy"][-1] <= 1.0 and "softmax" in result.summary()
    head = SoftmaxBaseline(net, 3)
    assert head(gw.randn(2, 1, 28, 28)).shape == (2, 3)
    assert len(list(head.parameters())) == len(list(net.parameters())) + 2   # + W, b
    with pytest.raises(ValueError, match="loss must be one of"):
        one_shot_demo("mnist", loss="arcface", data_dir=DATA)


@needs_mnist
def test_verify_command(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from gradwise.cli import main

    monkeypatch.setenv("GRADWISE_DATA", str(DATA))
    out, model = tmp_path / "results", tmp_path / "models" / "emb.npz"    # new folders, both
    res = CliRunner().invoke(main, ["verify", "--train-images", "300", "--epochs", "1",
                                    "--out", str(out), "--save-model", str(model), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "ROC AUC" in res.output and "one example per class" in res.output
    assert (out / "verify-mnist-roc.png").is_file()
    saved = json.loads((out / "verify-mnist.json").read_text())
    assert saved["train_images"] == 300 and saved["unseen_classes"] == [5, 6, 7, 8, 9]
    state = gw.load(model)
    net = EmbeddingNet(channels=(8, 16, 32))
    net.load_state_dict(state)                                 # the saved weights fit the net
    assert saved["channels"] == [8, 16, 32]
    res = CliRunner().invoke(main, ["verify", "--channels", "8,8,8,8,8", "--train-images", "300",
                                    "--out", str(tmp_path), "--no-progress"])
    assert res.exit_code == 1 and "EmbeddingNet" in res.output and "Traceback" not in res.output


def test_verify_command_checks_its_classes():
    from click.testing import CliRunner

    from gradwise.cli import main

    for bad in ("0,x", "3", "0,1,2,3,4,5,6,7,8,9", "0,12"):
        res = CliRunner().invoke(main, ["verify", "--train-classes", bad])
        assert res.exit_code != 0 and "--train-classes" in res.output, bad
    res = CliRunner().invoke(main, ["verify", "--dropout", "1"])
    assert res.exit_code == 2 and "--dropout" in res.output
    for bad in ("8,x", "0", ""):
        res = CliRunner().invoke(main, ["verify", "--channels", bad])
        assert res.exit_code == 2 and "--channels" in res.output, bad


def test_balanced_pairs():
    from gradwise.vision.face.one_shot import balanced_pairs

    y = np.repeat([5, 6, 7, 9], [3, 40, 2, 25])
    i, j, same = balanced_pairs(y, 1001, np.random.default_rng(0))
    assert len(i) == len(j) == len(same) == 1001 and same.sum() == 500
    assert (i != j).all()
    np.testing.assert_array_equal(y[i] == y[j], same)
    assert set(y[i[same]]) == {5, 6, 7, 9}                     # classes drawn uniformly
    with pytest.raises(ValueError, match="two classes with two images"):
        balanced_pairs(np.array([1, 1, 2]), 10, np.random.default_rng(0))
