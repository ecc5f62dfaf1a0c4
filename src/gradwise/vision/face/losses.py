"""The triplet loss (FaceNet) and the mining of triplets inside a batch.

Training pulls an anchor A towards a positive P (same identity) and pushes it from a
negative N (another identity) by at least a margin alpha:

    L(A, P, N) = max(||f(A) - f(P)||^2 - ||f(A) - f(N)||^2 + alpha, 0)

The margin may be any real number, as the course evaluates its triplet_loss with alpha = -2
too. alpha > 0 asks every negative to be farther than the positive by alpha; alpha = 0 only
that it be farther; alpha < 0 tolerates a positive farther than the negative by up to |alpha|
(such a triplet costs nothing), so a network trained with it need not separate identities at
all: a negative margin is for evaluating the formula, not for training a face network.

Most triplets soon satisfy the margin and give no gradient, so triplets are mined inside
each batch from the matrix of pairwise distances:
    batch-hard (Hermans et al. 2017): for every anchor, its farthest positive and its closest
        negative;
    semi-hard (Schroff et al. 2015): for every (anchor, positive) pair, the closest negative
        that is still farther than the positive, d(A, P) < d(A, N); when no such negative is
        in the batch, the farthest negative (TensorFlow Addons' rule).
The loss is the mean over the mined triplets, the easy ones (loss 0) included, as
TensorFlow Addons and PyTorch average; a mean over the active triplets only keeps the
training classes' gradient large to the end, which lowers the unseen classes' AUC.

Squared or plain distances (`squared`). The squared distance has the gradient
2 (f(x1) - f(x2)): it vanishes as two embeddings merge, so the collapsed network
f(x) = constant is a stationary point where every triplet costs alpha. Batch-hard mining
on squared distances walks into it (the distances between unseen-class images shrink to
nothing and the loss stays at alpha); on plain distances ||f(x1) - f(x2)||, whose gradient
is a unit vector however close the embeddings are, the same run trains (Hermans et al.
train on plain distances for this reason). Semi-hard mining works with either; the
course's squared distance is the default.

Conventions that differ between frameworks: the course and FaceNet use squared distances and
sum the loss over the triplets (the course's `triplet_loss` returns a sum); PyTorch's
TripletMarginLoss uses the plain (not squared) distance and averages. Here distances are
squared unless squared=False, and `reduction` defaults to 'mean' (pass 'sum' for the
course's value).
"""
from __future__ import annotations

import math

import numpy as np

from ... import functional as F
from ...tensor import Tensor, to_numpy
from .distances import pairwise_squared_distances, squared_distance

_REDUCTIONS = ("mean", "sum", "none")
MINING = ("batch_hard", "semi_hard")
_EPS = 1e-12        # plain distances are sqrt(max(d^2, eps)): no infinite slope at d = 0


def _plain(D2: Tensor) -> Tensor:
    """||.|| from ||.||^2. The slope 1 / (2 sqrt(d^2)) is infinite at 0, so d^2 is clipped at
    a tiny eps first: two identical embeddings get distance 1e-6 and no gradient."""
    return D2.clip(min=_EPS).sqrt()


def _reduce(name: str, L: Tensor, reduction: str) -> Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if reduction == "none":
        return L
    return L.sum() if reduction == "sum" else L.mean()


def triplet_loss(A: Tensor, P: Tensor, N: Tensor, alpha: float = 0.2,
                 reduction: str = "mean", squared: bool = True) -> Tensor:
    """max(||A - P||^2 - ||A - N||^2 + alpha, 0) for embeddings A, P, N of shape (m, d), or
    (d,) for a single triplet.

    alpha: any finite margin, negative ones included (see the module docstring for what a
    negative margin means). reduction: 'mean' over the m triplets (PyTorch's default), 'sum'
    (the course's triplet_loss) or 'none' (the m losses). squared=False: plain distances
    max(||A - P|| - ||A - N|| + alpha, 0), PyTorch's TripletMarginLoss.
    """
    if not (A.shape == P.shape == N.shape) or A.ndim not in (1, 2):
        raise ValueError(f"triplet_loss: anchor, positive and negative must be (m, d) of one "
                         f"shape (or (d,) for one triplet), got {A.shape}, {P.shape}, {N.shape}")
    _check_alpha("triplet_loss", alpha)
    pos_dist = squared_distance(A, P)
    neg_dist = squared_distance(A, N)
    if not squared:
        pos_dist, neg_dist = _plain(pos_dist), _plain(neg_dist)
    basic_loss = pos_dist - neg_dist + alpha
    return _reduce("triplet_loss", F.relu(basic_loss), reduction)


def _check_alpha(name: str, alpha: float) -> None:
    """Any finite real margin (negative ones included: see the module docstring)."""
    if not (isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool)
            and math.isfinite(alpha)):
        raise ValueError(f"{name}: the margin alpha must be a finite number, got {alpha!r}")


def _label_array(name: str, labels, m: int) -> np.ndarray:
    y = to_numpy(labels)
    if y.shape != (m,):
        raise ValueError(f"{name}: labels must have shape ({m},), one per embedding, got {y.shape}")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{name}: labels must be integers (identities), got dtype {y.dtype}")
    return y


def _masks(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """same[i, j]: j is a positive of anchor i (same label, j != i); diff[i, j]: a negative."""
    same = labels[:, None] == labels[None, :]
    diff = ~same
    np.fill_diagonal(same, False)
    return same, diff


def batch_hard_triplets(D: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (a, p, n) of the batch-hard triplets for the distance matrix D (m, m): for every
    anchor with at least one positive and one negative in the batch, its farthest positive
    and its closest negative. The choice carries no gradient; the loss on the chosen
    triplets does."""
    D = np.asarray(D)
    same, diff = _masks(np.asarray(labels))
    a = np.flatnonzero(same.any(axis=1) & diff.any(axis=1))
    p = np.where(same[a], D[a], -np.inf).argmax(axis=1)
    n = np.where(diff[a], D[a], np.inf).argmin(axis=1)
    return a, p, n


def semi_hard_triplets(D: np.ndarray, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices (a, p, n) of the semi-hard triplets for the distance matrix D (m, m): every
    (anchor, positive) pair, with the closest negative farther than the positive,
    d(a, n) > d(a, p); when the batch has none, the farthest negative."""
    D = np.asarray(D)
    same, diff = _masks(np.asarray(labels))
    a, p = np.nonzero(same & diff.any(axis=1, keepdims=True))
    rows = D[a]                                                 # (pairs, m): d(a, .)
    neg = diff[a]
    beyond = neg & (rows > D[a, p][:, None])                    # negatives past the positive
    closest_beyond = np.where(beyond, rows, np.inf).argmin(axis=1)
    farthest = np.where(neg, rows, -np.inf).argmax(axis=1)
    n = np.where(beyond.any(axis=1), closest_beyond, farthest)
    return a, p, n


_MINERS = {"batch_hard": batch_hard_triplets, "semi_hard": semi_hard_triplets}


def batch_triplet_loss(E: Tensor, labels, alpha: float = 0.2, mining: str = "semi_hard",
                       reduction: str = "mean", squared: bool = True) -> Tensor:
    """The triplet loss of a batch of embeddings E (m, d) with identities `labels` (m,),
    over the triplets that `mining` ('batch_hard' or 'semi_hard') picks from the batch's
    pairwise distances: max(D[a, p] - D[a, n] + alpha, 0), averaged over the triplets
    (easy ones included). D holds squared distances, or plain ones with squared=False
    (see the module docstring for why batch-hard mining wants plain ones).

    A batch without any valid triplet (a single identity, or no identity seen twice) gives
    a loss of 0 that still backpropagates (zero gradients), so a training loop runs on.
    """
    if E.ndim != 2:
        raise ValueError(f"batch_triplet_loss: embeddings must be (m, d), got {E.shape}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"batch_triplet_loss: reduction must be one of {_REDUCTIONS}, got "
                         f"{reduction!r}")
    if mining not in _MINERS:
        raise ValueError(f"batch_triplet_loss: mining must be one of {MINING}, got {mining!r}")
    _check_alpha("batch_triplet_loss", alpha)
    y = _label_array("batch_triplet_loss", labels, E.shape[0])
    D = pairwise_squared_distances(E)
    a, p, n = _MINERS[mining](D.data, y)     # sqrt is increasing: the same triplets either way
    if a.size == 0 and reduction != "none":
        return (E * 0.0).sum()
    pos_dist, neg_dist = D[a, p], D[a, n]
    if not squared:
        pos_dist, neg_dist = _plain(pos_dist), _plain(neg_dist)
    basic_loss = pos_dist - neg_dist + alpha
    return _reduce("batch_triplet_loss", F.relu(basic_loss), reduction)


class TripletLoss:
    """loss_fn(E, labels) for `fit`: the mined triplet loss of a batch of embeddings.

        loss_fn = TripletLoss(alpha=0.2, mining="semi_hard")
        fit(net, loss_fn, optim.Adam(net.parameters(), lr=1e-3), PKBatches(X, y, 5, 24),
            metrics=())
        TripletLoss(0.2, "batch_hard", squared=False)   # Hermans et al.: plain distances
    """

    def __init__(self, alpha: float = 0.2, mining: str = "semi_hard", squared: bool = True):
        _check_alpha("TripletLoss", alpha)
        if mining not in _MINERS:
            raise ValueError(f"TripletLoss: mining must be one of {MINING}, got {mining!r}")
        self.alpha, self.mining, self.squared = float(alpha), mining, bool(squared)

    def __call__(self, E: Tensor, labels) -> Tensor:
        return batch_triplet_loss(E, labels, alpha=self.alpha, mining=self.mining,
                                  squared=self.squared)

    def __repr__(self) -> str:
        return f"TripletLoss(alpha={self.alpha}, mining={self.mining!r}, squared={self.squared})"

