"""Face verification and recognition with a Siamese network and the triplet loss (FaceNet).

One network f maps an image x to an embedding f(x) on the unit sphere (||f(x)|| = 1); the
two "twins" of a Siamese network are that same network, weights shared, applied to two
inputs. Two images show the same identity when their embeddings are close:

    d(x1, x2) = ||f(x1) - f(x2)||^2                  (squared Euclidean, in [0, 4])

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
TensorFlow Addons and PyTorch average; a mean over the active triplets only kept the
training classes' gradient large to the end and lowered the unseen classes' AUC on MNIST
(0.79 against 0.87 in one comparison).

Squared or plain distances (`squared`). The squared distance has the gradient
2 (f(x1) - f(x2)): it vanishes as two embeddings merge, so the collapsed network
f(x) = constant is a stationary point where every triplet costs alpha. Batch-hard mining
on squared distances walks into it (on MNIST every distance between unseen-class images
fell below 0.01 and the loss stayed at alpha); on plain distances ||f(x1) - f(x2)||, whose
gradient is a unit vector however close the embeddings are, the same run trains (Hermans
et al. train on plain distances for this reason). Semi-hard mining works with either;
the course's squared distance is the default.

Verification (1:1) accepts a pair when d(x1, x2) <= threshold, the threshold chosen on a dev
split (`best_threshold`); recognition (1:K) returns the nearest identity of a database, or
"not in the database" (None) when even that one is farther than the threshold.

Conventions that differ between frameworks: the course and FaceNet use squared distances and
sum the loss over the triplets (the course's `triplet_loss` returns a sum); PyTorch's
TripletMarginLoss uses the plain (not squared) distance and averages. Here distances are
squared unless squared=False, and `reduction` defaults to 'mean' (pass 'sum' for the
course's value). The course's `verify` compares the plain norm with 0.7; a squared-distance
threshold t corresponds to a plain one of sqrt(t).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import functional as F
from ..data.transforms import takes_rng
from ..nn import (
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
)
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")
MINING = ("batch_hard", "semi_hard")
_EPS = 1e-12        # plain distances are sqrt(max(d^2, eps)): no infinite slope at d = 0


# ---- distances ------------------------------------------------------------------------------
def l2_normalize(Z: Tensor, eps: float = 1e-12) -> Tensor:
    """Z / ||Z|| row by row (last axis), so that embeddings lie on the unit sphere."""
    return Z / ((Z * Z).sum(axis=-1, keepdims=True) + eps).sqrt()


def squared_distance(E1: Tensor, E2: Tensor) -> Tensor:
    """d = ||E1 - E2||^2 along the last axis: (m, d) and (m, d) -> (m,)."""
    if E1.shape != E2.shape:
        raise ValueError(f"squared_distance: embeddings {E1.shape} and {E2.shape} differ in shape")
    diff = E1 - E2
    return (diff * diff).sum(axis=-1)


def pairwise_squared_distances(E: Tensor) -> Tensor:
    """D[i, j] = ||e_i - e_j||^2 for the rows of E (m, d), as ||e_i||^2 - 2 e_i.e_j + ||e_j||^2:
    one (m, d) @ (d, m) product instead of an (m, m, d) array of differences. Rounding can
    leave tiny negative numbers where two embeddings coincide; they are clipped to 0."""
    if E.ndim != 2:
        raise ValueError(f"pairwise_squared_distances: embeddings must be (m, d), got {E.shape}")
    sq = (E * E).sum(axis=1, keepdims=True)                     # (m, 1)
    D = sq - 2.0 * (E @ E.T) + sq.T
    return D.clip(min=0.0)


def _plain(D2: Tensor) -> Tensor:
    """||.|| from ||.||^2. The slope 1 / (2 sqrt(d^2)) is infinite at 0, so d^2 is clipped at
    a tiny eps first: two identical embeddings get distance 1e-6 and no gradient."""
    return D2.clip(min=_EPS).sqrt()


# ---- the triplet loss -----------------------------------------------------------------------
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
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
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
        return batch_triplet_loss(E, labels, self.alpha, self.mining, squared=self.squared)

    def __repr__(self) -> str:
        return f"TripletLoss(alpha={self.alpha}, mining={self.mining!r}, squared={self.squared})"


# ---- batches of P identities x K images -----------------------------------------------------
class PKBatches:
    """Batches of P identities with K images each (FaceNet; Hermans et al.): every anchor
    has K - 1 positives and (P - 1) K negatives in its batch, however many identities the
    data holds. Re-iterable: each pass draws new batches from gradwise's generator, so
    `fit(..., train_data=PKBatches(X, y, 8, 16))` sees fresh ones every epoch.

    An epoch has len(X) // (P K) batches. An identity with fewer than K images is drawn
    with replacement. transform: applied to each batch of images, fn(X, rng) or fn(X)
    (e.g. gradwise.data.transforms.RandomCrop(28, padding=2)), with gradwise's generator.
    """

    def __init__(self, X, y, P: int, K: int, transform=None):
        self.X = np.asarray(X.data if isinstance(X, Tensor) else X)
        self.y = _label_array("PKBatches", y, len(self.X))
        self.classes, inverse = np.unique(self.y, return_inverse=True)
        for v, name in ((P, "P"), (K, "K")):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"PKBatches: {name} must be a positive integer, got {v!r}")
        if K < 2:
            raise ValueError(f"PKBatches: K must be >= 2 so that every anchor has a positive, got {K}")
        if P > len(self.classes):
            raise ValueError(f"PKBatches: P = {P} identities per batch, but the data has only "
                             f"{len(self.classes)}")
        self.P, self.K = int(P), int(K)
        self.members = [np.flatnonzero(inverse == c) for c in range(len(self.classes))]
        self.steps = max(1, len(self.X) // (self.P * self.K))
        if transform is not None and not callable(transform):
            raise TypeError(f"PKBatches: transform must be callable, got {transform!r}")
        self.transform = transform

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        rng = backend.rng()
        for _ in range(self.steps):
            ids = rng.choice(len(self.classes), size=self.P, replace=False)
            idx = np.concatenate([rng.choice(self.members[c], size=self.K,
                                             replace=len(self.members[c]) < self.K) for c in ids])
            X = self.X[idx]
            if self.transform is not None:
                X = self.transform(X, rng) if takes_rng(self.transform) else self.transform(X)
            yield X, self.y[idx]


# ---- the network ----------------------------------------------------------------------------
class EmbeddingNet(Module):
    """f(x): images (m, C, H, W) -> embeddings (m, embedding_dim) with ||f(x)|| = 1.

        [CONV 3x3 'same' - BATCHNORM - RELU - MAXPOOL 2x2] x len(channels)
        FLATTEN - DROPOUT (training only) - [FC embedding_dim] - L2 normalization

    embedding_dim=None (the default): the flattened last block is the embedding, with the
    defaults on 1 x 28 x 28 images 28 -> 14 -> 7 -> 3 and 32 x 3 x 3 = 288 numbers. An int
    adds FaceNet's fully connected projection to that many numbers. On unseen classes the
    projection is where the embedding forgets what the training identities do not need:
    trained on MNIST digits 0-4 (one_shot_demo, 6 epochs of 12000 images, seed 0), the
    unseen digits 5-9 scored ROC AUC 0.917 with the block as the embedding and 0.841 with
    a projection to 64 numbers on top, everything else equal; see gradwise.vision.one_shot
    for the full recipe and the numbers.

    Without the projection the embedding follows a ReLU, so its numbers are >= 0 and
    squared distances lie in [0, 2] rather than [0, 4]: choose the margin on that scale.
    dropout: the probability of zeroing each feature before the normalization in training
    (inverted dropout); eval mode (embed, FaceDatabase) uses every feature.
    The unit sphere is FaceNet's constraint: distances are bounded, so one margin alpha means
    the same at any stage of training.
    """

    def __init__(self, input_shape=(1, 28, 28), embedding_dim: int | None = None,
                 channels=(8, 16, 32), dropout: float = 0.0):
        super().__init__()
        C, H, W = self.input_shape = tuple(int(n) for n in input_shape)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"EmbeddingNet: dropout must be in [0, 1), got {dropout!r}")
        layers = []
        for out in channels:
            if H < 2 or W < 2:
                raise ValueError(f"EmbeddingNet: input {input_shape} is too small for "
                                 f"{len(channels)} 2x2 poolings")
            layers += [Conv2d(C, out, 3, padding="same", bias=False, init="he_normal"),
                       BatchNorm2d(out), ReLU(), MaxPool2d(2)]
            C, H, W = out, H // 2, W // 2
        self.features = Sequential(*layers)
        self.flatten = Flatten()
        self.dropout = Dropout(dropout) if dropout > 0 else Identity()
        if embedding_dim is None:
            self.fc = Identity()
            self.embedding_dim = C * H * W
        else:
            if (isinstance(embedding_dim, bool) or not isinstance(embedding_dim, (int, np.integer))
                    or embedding_dim < 1):
                raise ValueError(f"EmbeddingNet: embedding_dim must be a positive int or None, "
                                 f"got {embedding_dim!r}")
            self.fc = Linear(C * H * W, int(embedding_dim))
            self.embedding_dim = int(embedding_dim)

    def forward(self, X: Tensor) -> Tensor:
        if X.ndim != 4 or tuple(X.shape[1:]) != self.input_shape:
            shape = ", ".join(map(str, self.input_shape))
            raise ValueError(f"EmbeddingNet: expected images (N, {shape}), got {X.shape}")
        return l2_normalize(self.fc(self.dropout(self.flatten(self.features(X)))))


class Siamese(Module):
    """The two twins of a Siamese network are one embedding network applied twice:
    forward(x1, x2) = d(x1, x2) = ||f(x1) - f(x2)||^2, shape (m,)."""

    def __init__(self, embedding_net: Module):
        super().__init__()
        self.embedding_net = embedding_net

    def embed(self, X: Tensor) -> Tensor:
        return self.embedding_net(X)

    def forward(self, X1: Tensor, X2: Tensor) -> Tensor:
        if X1.shape != X2.shape:
            raise ValueError(f"Siamese: the two inputs must have the same shape, got {X1.shape} "
                             f"and {X2.shape}")
        return squared_distance(self.embed(X1), self.embed(X2))


def embed(model: Module, X, batch_size: int = 256) -> np.ndarray:
    """Embeddings of the images X as an ndarray, in eval mode without recording a graph
    (model: an EmbeddingNet, or a Siamese network)."""
    from ..train import predict

    net = model.embedding_net if isinstance(model, Siamese) else model
    return predict(net, X, batch_size=batch_size)


# ---- verification: ROC, AUC and the threshold -----------------------------------------------
def _scores(name: str, distances, same) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=np.float64).ravel()
    s = np.asarray(same).ravel()
    if d.shape != s.shape:
        raise ValueError(f"{name}: {d.size} distances but {s.size} same/different labels")
    if s.dtype != bool:
        if not np.isin(s, (0, 1)).all():
            raise ValueError(f"{name}: same must hold booleans or 0/1, got values {np.unique(s)[:5]}")
        s = s.astype(bool)
    if not np.isfinite(d).all():
        raise ValueError(f"{name}: distances contain NaN or infinity")
    return d, s


def roc_curve(distances, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC of the rule "same identity if d <= t" over every threshold t.

    Returns (fpr, tpr, thresholds): thresholds are the distinct distances in increasing
    order after a first -inf (accept nothing); tpr[k] = accepted same pairs / same pairs,
    fpr[k] = accepted different pairs / different pairs at thresholds[k]. This is
    scikit-learn's roc_curve(same, -distances) without dropping collinear points.
    """
    d, s = _scores("roc_curve", distances, same)
    n_pos, n_neg = int(s.sum()), int((~s).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"roc_curve: need both same and different pairs, got {n_pos} same and "
                         f"{n_neg} different")
    order = np.argsort(d, kind="stable")
    d, s = d[order], s[order]
    last = np.r_[np.flatnonzero(np.diff(d)), d.size - 1]       # the last pair of each distance
    tp = np.cumsum(s)[last]
    fp = (last + 1) - tp
    return (np.r_[0.0, fp / n_neg], np.r_[0.0, tp / n_pos], np.r_[-np.inf, d[last]])


def auc(fpr, tpr) -> float:
    """Area under the curve (fpr, tpr) by the trapezoidal rule."""
    fpr, tpr = np.asarray(fpr, dtype=np.float64), np.asarray(tpr, dtype=np.float64)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def best_threshold(distances, same) -> tuple[float, float]:
    """The threshold t for "same if d <= t" with the highest accuracy on these pairs (a dev
    split), and that accuracy. t lies halfway between two consecutive distinct distances,
    so that it does not sit on a training pair's distance."""
    fpr, tpr, thr = roc_curve(distances, same)
    d, s = _scores("best_threshold", distances, same)
    n_pos, n_neg = s.sum(), (~s).sum()
    correct = tpr * n_pos + (1.0 - fpr) * n_neg
    k = int(np.argmax(correct))
    if k == 0:
        t = thr[1] - 1.0                                        # reject everything
    elif k == len(thr) - 1:
        t = thr[k] + 1.0                                        # accept everything
    else:
        t = (thr[k] + thr[k + 1]) / 2.0
    return float(t), float(correct[k] / d.size)


def verification_accuracy(distances, same, threshold: float) -> float:
    """The fraction of pairs classified right by "same if d <= threshold"."""
    d, s = _scores("verification_accuracy", distances, same)
    return float(np.mean((d <= threshold) == s))


# ---- recognition: a database of identities --------------------------------------------------
class FaceDatabase:
    """Identities with one or more reference images each, for 1:1 verification and 1:K
    recognition (the course's `verify` and `who_is_it`).

        db = FaceDatabase(net, threshold=0.5)
        db.add("younes", image)                 # one example is enough (one-shot)
        dist, ok = db.verify(query, "younes")   # 1:1: is this younes?
        name, dist = db.identify(query)         # 1:K: who is it? None: not in the database

    An identity's distance to a query is the smallest over its reference images.
    """

    def __init__(self, model: Module, threshold: float):
        if not (isinstance(threshold, (int, float, np.floating)) and math.isfinite(threshold)):
            raise ValueError(f"FaceDatabase: threshold must be a finite number, got {threshold!r}")
        self.model, self.threshold = model, float(threshold)
        self.names: list = []
        self._embeddings: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name) -> bool:
        return name in self.names

    def add(self, name, images) -> None:
        """Enroll `name` with images (C, H, W) or (k, C, H, W); adding again appends."""
        E = embed(self.model, self._batch("add", images))
        if name in self.names:
            i = self.names.index(name)
            self._embeddings[i] = np.concatenate([self._embeddings[i], E])
        else:
            self.names.append(name)
            self._embeddings.append(E)

    def distances(self, images) -> np.ndarray:
        """(q, K): d(query, identity) for each query image and each enrolled identity."""
        if not self.names:
            raise ValueError("FaceDatabase: the database is empty: add() identities first")
        Q = embed(self.model, self._batch("distances", images))
        return np.stack([((Q[:, None, :] - E[None]) ** 2).sum(-1).min(axis=1)
                         for E in self._embeddings], axis=1)

    def verify(self, image, name) -> tuple[float, bool]:
        """1:1: (d(image, name), whether d <= threshold)."""
        if name not in self.names:
            raise KeyError(f"FaceDatabase.verify: {name!r} is not in the database "
                           f"({len(self.names)} identities)")
        d = float(self.distances(image)[0, self.names.index(name)])
        return d, d <= self.threshold

    def identify(self, images):
        """1:K: the nearest identity and its distance, or (None, distance) when the nearest
        is farther than the threshold: "not in the database". For a batch (q, C, H, W):
        a list of such pairs."""
        single = np.ndim(images.data if isinstance(images, Tensor) else images) == 3
        D = self.distances(images)
        k = D.argmin(axis=1)
        d = D[np.arange(len(D)), k]
        out = [(self.names[j] if dj <= self.threshold else None, float(dj)) for j, dj in zip(k, d)]
        return out[0] if single else out

    def _batch(self, name: str, images) -> np.ndarray:
        X = np.asarray(images.data if isinstance(images, Tensor) else images)
        if X.ndim == 3:
            X = X[None]
        shape = getattr(_net(self.model), "input_shape", None)
        if X.ndim != 4 or (shape is not None and tuple(X.shape[1:]) != tuple(shape)):
            want = f"(C, H, W) = {tuple(shape)}" if shape is not None else "(C, H, W)"
            raise ValueError(f"FaceDatabase.{name}: expected an image {want} or a batch of them, "
                             f"got {X.shape}")
        return X


def _net(model):
    return model.embedding_net if isinstance(model, Siamese) else model
