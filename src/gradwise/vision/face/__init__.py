"""Face verification and recognition with a Siamese network and the triplet loss (FaceNet).

One network f maps an image x to an embedding f(x) on the unit sphere; two images show the
same identity when their embeddings are close:

    d(x1, x2) = ||f(x1) - f(x2)||^2                  (squared Euclidean, in [0, 4])

    distances   d, pairwise distance matrices, L2 normalization
    losses      the triplet loss, batch-hard and semi-hard mining
    batches     batches of P identities x K images for the mining
    networks    EmbeddingNet (f), Siamese (f applied twice), embed
    verify      1:1 verification: ROC, AUC, the threshold chosen on a dev split
    database    1:K recognition: FaceDatabase
    one_shot    the demonstration on MNIST classes the embedding never saw (`gradwise verify`)
    pretrained  real photos: dlib's 5 landmarks (landmarks), the aligned chip (align) and
                dlib's face ResNet (dlib_resnet), read from dlib's files (`gradwise verify --faces`)

    net = EmbeddingNet(); loss_fn = TripletLoss(alpha=0.2, mining="semi_hard")
    db = FaceDatabase(net, threshold); db.add("ada", image); db.identify(query)
"""
from .align import align
from .batches import PKBatches
from .database import FaceDatabase
from .distances import l2_normalize, pairwise_squared_distances, squared_distance
from .dlib_resnet import DlibFaceNet
from .landmarks import ShapePredictor
from .losses import (
    TripletLoss,
    batch_hard_triplets,
    batch_triplet_loss,
    semi_hard_triplets,
    triplet_loss,
)
from .networks import EmbeddingNet, Siamese, embed
from .one_shot import one_shot_demo
from .verify import auc, best_threshold, roc_curve, verification_accuracy

__all__ = [
    "EmbeddingNet", "Siamese", "TripletLoss", "triplet_loss", "batch_triplet_loss",
    "batch_hard_triplets", "semi_hard_triplets", "squared_distance", "pairwise_squared_distances",
    "l2_normalize", "PKBatches", "FaceDatabase", "embed", "roc_curve", "auc", "best_threshold",
    "verification_accuracy", "one_shot_demo", "DlibFaceNet", "ShapePredictor", "align",
]
