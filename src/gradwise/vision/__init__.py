"""Vision: object detection (boxes, IoU, non-max suppression, anchors, YOLO, sliding windows).

    from gradwise.vision import make_mnist_detection, YOLO, kmeans_anchors, mean_average_precision
    train = make_mnist_detection(4000, seed=0)          # MNIST digits on 64 x 64 canvases
    model = YOLO(num_classes=10, anchors=kmeans_anchors(hw, 2, seed=0))
    found = model.detect(images)                        # boxes, scores, labels per image

Face verification (a Siamese network, the triplet loss) and neural style transfer:

    net = EmbeddingNet(); loss_fn = TripletLoss(alpha=0.2, mining="semi_hard")
    db = FaceDatabase(net, threshold); db.add("ada", image); db.identify(query)
    result = transfer_style(load_image("c.png", 128), load_image("s.png", (128, 128)))
"""
from .anchors import anchor_grid, assign_anchors, kmeans_anchors, shape_iou, yolo_targets
from .boxes import (
    batched_nms, box_area, center_to_corners, clip_boxes, corners_to_center, iou, iou_matrix, nms,
    non_max_suppression,
)
from .draw import draw_detections, prepare_image, save_png
from .localization import (
    LandmarkHead, LocalizationHead, landmark_loss, localization_loss, piecewise_loss,
)
from .metrics import average_precision, match_detections, mean_average_precision
from .sliding import convolutionalize, sliding_windows, window_stride
from .synth import DetectionSet, make_mnist_detection, paste_digits, resize_digits, resize_matrix
from .yolo import (
    YOLO, Detections, load_detector, save_detector, yolo_eval, yolo_filter_boxes, yolo_head,
    yolo_loss,
)
from .face import (
    EmbeddingNet, FaceDatabase, PKBatches, Siamese, TripletLoss, auc, batch_hard_triplets,
    batch_triplet_loss, best_threshold, embed, l2_normalize, pairwise_squared_distances, roc_curve,
    semi_hard_triplets, squared_distance, triplet_loss, verification_accuracy,
)
from .image_files import load_image, save_image
from .one_shot import one_shot_demo
from .style import (
    FeatureNet, StyleResult, content_cost, example_content, example_style, gram_matrix,
    layer_style_cost, style_cost, total_cost, total_variation, transfer_style,
)

__all__ = [
    # detection: boxes, anchors, heads and losses, YOLO, data, mAP
    "corners_to_center", "center_to_corners", "box_area", "clip_boxes", "iou", "iou_matrix",
    "nms", "batched_nms", "non_max_suppression",
    "shape_iou", "kmeans_anchors", "anchor_grid", "assign_anchors", "yolo_targets",
    "piecewise_loss", "localization_loss", "LocalizationHead", "LandmarkHead", "landmark_loss",
    "YOLO", "Detections", "yolo_loss", "yolo_head", "yolo_filter_boxes", "yolo_eval",
    "save_detector", "load_detector",
    "convolutionalize", "sliding_windows", "window_stride",
    "DetectionSet", "make_mnist_detection", "paste_digits", "resize_digits", "resize_matrix",
    "average_precision", "match_detections", "mean_average_precision",
    "prepare_image", "draw_detections", "save_png",
    # face verification and recognition
    "EmbeddingNet", "Siamese", "TripletLoss", "triplet_loss", "batch_triplet_loss",
    "batch_hard_triplets", "semi_hard_triplets", "squared_distance", "pairwise_squared_distances",
    "l2_normalize", "PKBatches", "FaceDatabase", "embed", "roc_curve", "auc", "best_threshold",
    "verification_accuracy", "one_shot_demo",
    # neural style transfer
    "FeatureNet", "content_cost", "gram_matrix", "layer_style_cost", "style_cost", "total_cost",
    "total_variation", "transfer_style", "StyleResult", "example_content", "example_style",
    "load_image", "save_image",
]
