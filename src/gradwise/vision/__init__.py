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
from .detection import (
    YOLO,
    Detections,
    DetectionSet,
    LandmarkHead,
    LocalizationHead,
    anchor_grid,
    assign_anchors,
    average_precision,
    batched_nms,
    box_area,
    center_to_corners,
    clip_boxes,
    convolutionalize,
    corners_to_center,
    draw_detections,
    iou,
    iou_matrix,
    kmeans_anchors,
    landmark_loss,
    load_detector,
    localization_loss,
    make_mnist_detection,
    match_detections,
    mean_average_precision,
    nms,
    non_max_suppression,
    paste_digits,
    piecewise_loss,
    prepare_image,
    resize_digits,
    resize_matrix,
    save_detector,
    save_png,
    shape_iou,
    sliding_windows,
    window_stride,
    yolo_eval,
    yolo_filter_boxes,
    yolo_head,
    yolo_loss,
    yolo_targets,
)
from .face import (
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
    one_shot_demo,
    pairwise_squared_distances,
    roc_curve,
    semi_hard_triplets,
    squared_distance,
    triplet_loss,
    verification_accuracy,
)
from .image_files import load_image, save_image
from .style import (
    FeatureNet,
    StyleConfig,
    StyleResult,
    content_cost,
    example_content,
    example_style,
    gram_matrix,
    layer_style_cost,
    style_cost,
    total_cost,
    total_variation,
    transfer_style,
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
    "total_variation", "transfer_style", "StyleConfig", "StyleResult", "example_content",
    "example_style",
    # image files, shared
    "load_image", "save_image",
]
