"""The embedding network f and the Siamese pair that applies it twice.

One network f maps an image x to an embedding f(x) on the unit sphere (||f(x)|| = 1); the
two "twins" of a Siamese network are that same network, weights shared, applied to two
inputs. Two images show the same identity when their embeddings are close.
"""
from __future__ import annotations

import numpy as np

from ...nn import (
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
from ...ops.conv import out_size
from ...tensor import Tensor
from .distances import l2_normalize, squared_distance


class EmbeddingNet(Module):
    """f(x): images (m, C, H, W) -> embeddings (m, embedding_dim) with ||f(x)|| = 1.

        [CONV 3x3 'same' - BATCHNORM - RELU - MAXPOOL 2x2] x len(channels)
        FLATTEN - DROPOUT (training only) - [FC embedding_dim] - L2 normalization

    embedding_dim=None (the default): the flattened last block is the embedding, with the
    defaults on 1 x 28 x 28 images 28 -> 14 -> 7 -> 3 and 32 x 3 x 3 = 288 numbers. An int
    adds FaceNet's fully connected projection to that many numbers. On unseen classes the
    projection is where the embedding forgets what the training identities do not need, so
    the default keeps the last block (see gradwise.vision.face.one_shot for the recipe).

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
            C, H, W = out, out_size(H, 2, 2, pad_total=0), out_size(W, 2, 2, pad_total=0)
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
    from ...train import predict

    return predict(_embedding_net(model), X, batch_size=batch_size)


def _embedding_net(model: Module) -> Module:
    """The embedding network f of an EmbeddingNet (itself) or of a Siamese network."""
    return model.embedding_net if isinstance(model, Siamese) else model
