"""Vision, one subpackage per topic:

    detection   boxes, IoU, non-max suppression, anchors, YOLO, sliding windows, mAP, the
                MNIST canvases and the detector trained on them
    face        a Siamese network and the triplet loss: verification and recognition
    style       neural style transfer
    image_files reading and writing images, shared by all three

    from gradwise.vision import make_mnist_detection, YOLO, kmeans_anchors, mean_average_precision
    train = make_mnist_detection(4000, seed=0)          # MNIST digits on 64 x 64 canvases
    model = YOLO(num_classes=10, anchors=kmeans_anchors(hw, 2, seed=0))
    found = model.detect(images)                        # boxes, scores, labels per image

    net = EmbeddingNet(); loss_fn = TripletLoss(alpha=0.2, mining="semi_hard")
    db = FaceDatabase(net, threshold); db.add("ada", image); db.identify(query)
    result = transfer_style(load_image("c.png", 128), load_image("s.png", (128, 128)),
                            StyleConfig(iterations=200))
"""
from . import detection, face, style
from .detection import *  # noqa: F403 - each subpackage's __all__ is the list of its names
from .face import *  # noqa: F403
from .image_files import load_image, save_image
from .style import *  # noqa: F403

__all__ = [*detection.__all__, *face.__all__, *style.__all__, "load_image", "save_image"]
