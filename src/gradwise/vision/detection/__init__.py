"""Object detection: boxes, IoU and non-max suppression (boxes), anchor shapes and YOLO
targets (anchors), the course's output vector and its loss (localization), YOLO (yolo),
sliding windows as one convolutional pass (sliding), mean average precision (metrics),
MNIST digits on canvases (synth), drawing the boxes found (draw), and the recipe that trains
a detector on those canvases (digits).

    from gradwise.vision.detection import make_mnist_detection, YOLO, kmeans_anchors
    train = make_mnist_detection(4000, seed=0)          # MNIST digits on 64 x 64 canvases
    model = YOLO(num_classes=10, anchors=kmeans_anchors(hw, 2, seed=0))
    found = model.detect(images)                        # boxes, scores, labels per image
"""
from .anchors import anchor_grid, assign_anchors, kmeans_anchors, shape_iou, yolo_targets
from .boxes import (
    batched_nms,
    box_area,
    center_to_corners,
    clip_boxes,
    corners_to_center,
    iou,
    iou_matrix,
    nms,
    non_max_suppression,
)
from .draw import draw_detections, prepare_image, save_png
from .localization import (
    LandmarkHead,
    LocalizationHead,
    landmark_loss,
    localization_loss,
    piecewise_loss,
)
from .metrics import average_precision, match_detections, mean_average_precision
from .sliding import convolutionalize, sliding_windows, window_stride
from .synth import DetectionSet, make_mnist_detection, paste_digits, resize_digits, resize_matrix
from .yolo import (
    YOLO,
    Detections,
    load_detector,
    save_detector,
    yolo_eval,
    yolo_filter_boxes,
    yolo_head,
    yolo_loss,
)

__all__ = [
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
]
