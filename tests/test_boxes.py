"""Box functions against hand-computed values: the two forms, area, IoU, NMS, anchors, mAP."""
import numpy as np
import pytest

from gradwise.vision import (
    anchor_grid,
    assign_anchors,
    average_precision,
    batched_nms,
    box_area,
    center_to_corners,
    clip_boxes,
    corners_to_center,
    iou,
    iou_matrix,
    kmeans_anchors,
    match_detections,
    mean_average_precision,
    nms,
    non_max_suppression,
    shape_iou,
    yolo_targets,
)


# ---- the two forms ------------------------------------------------------------------------------
def test_corner_center_round_trip_by_hand():
    corners = np.array([[1.0, 2.0, 5.0, 10.0]])           # x1, y1, x2, y2
    center = corners_to_center(corners)
    np.testing.assert_array_equal(center, [[3.0, 6.0, 8.0, 4.0]])   # bx, by, bh, bw
    np.testing.assert_array_equal(center_to_corners(center), corners)


def test_forms_keep_leading_shape_and_round_trip():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 10, (3, 5, 2))
    c = np.concatenate([xy, xy + rng.uniform(0, 5, (3, 5, 2))], axis=-1)
    assert corners_to_center(c).shape == (3, 5, 4)
    np.testing.assert_allclose(center_to_corners(corners_to_center(c)), c)


def test_area_and_clip():
    np.testing.assert_array_equal(box_area([[0, 0, 2, 3], [1, 1, 1, 5]]), [6.0, 0.0])
    np.testing.assert_array_equal(clip_boxes([[-2, 3, 70, 80]], 64, 64), [[0, 3, 64, 64]])


def test_bad_boxes_are_named():
    with pytest.raises(ValueError, match=r"corners_to_center: boxes must have shape \(\.\.\., 4\)"):
        corners_to_center(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="x1 <= x2 and y1 <= y2; box \\(1,\\) is \\[5.0, 0.0, 1.0, 2.0\\]"):
        iou([0, 0, 1, 1], [[0, 0, 1, 1], [5, 0, 1, 2]])
    with pytest.raises(ValueError, match="heights and widths"):
        center_to_corners([0, 0, -1, 2])
    with pytest.raises(TypeError, match="numbers"):
        box_area(np.array([["a", "b", "c", "d"]]))


# ---- IoU ---------------------------------------------------------------------------------------
def test_iou_course_example():
    # the course's test: box1 (2, 1, 4, 3), box2 (1, 2, 3, 4): intersection 1, union 7
    assert iou([2, 1, 4, 3], [1, 2, 3, 4]) == pytest.approx(1 / 7)


@pytest.mark.parametrize("box2, expected", [
    ([0, 0, 2, 2], 1.0),                 # identical
    ([1, 0, 3, 2], 2 / 6),               # half overlap: inter 2, union 4 + 4 - 2
    ([2, 0, 4, 2], 0.0),                 # touching edges only
    ([3, 3, 4, 4], 0.0),                 # disjoint
    ([0.5, 0.5, 1.5, 1.5], 1 / 4),       # inside: inter 1, union 4
])
def test_iou_hand_values(box2, expected):
    assert iou([0, 0, 2, 2], box2) == pytest.approx(expected)
    assert iou(box2, [0, 0, 2, 2]) == pytest.approx(expected)    # symmetric


def test_iou_of_empty_boxes_is_zero_not_nan():
    assert iou([1, 1, 1, 1], [1, 1, 1, 1]) == 0.0


def test_iou_matrix_matches_pairs():
    a = np.array([[0, 0, 2, 2], [1, 1, 3, 3]], float)
    b = np.array([[0, 0, 2, 2], [2, 2, 4, 4], [10, 10, 11, 11]], float)
    M = iou_matrix(a, b)
    assert M.shape == (2, 3)
    np.testing.assert_allclose(M, [[1, 0, 0], [1 / 7, 1 / 7, 0]])
    for i in range(2):
        for j in range(3):
            assert M[i, j] == pytest.approx(iou(a[i], b[j]))
    with pytest.raises(ValueError, match="use iou_matrix"):
        iou(a, b)


def test_iou_matches_torchvision_formula_on_random_boxes():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 10, (50, 2))
    a = np.concatenate([xy, xy + rng.uniform(0.1, 5, (50, 2))], 1)
    xy = rng.uniform(0, 10, (40, 2))
    b = np.concatenate([xy, xy + rng.uniform(0.1, 5, (40, 2))], 1)
    M = iou_matrix(a, b)
    assert ((M >= 0) & (M <= 1)).all()
    # brute force by pixel-free reasoning: inter = overlap in x times overlap in y
    i, j = 7, 13
    ix = max(0, min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0]))
    iy = max(0, min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1]))
    union = box_area(a[i]) + box_area(b[j]) - ix * iy
    assert M[i, j] == pytest.approx(ix * iy / union)


# ---- non-max suppression ----------------------------------------------------------------------
BOXES = np.array([[0, 0, 10, 10],       # 0: score .9
                  [1, 1, 11, 11],       # 1: .8, IoU with 0 = 81 / 119 = 0.68 -> suppressed
                  [20, 20, 30, 30],     # 2: .7, far away -> kept
                  [0, 5, 10, 15],       # 3: .6, IoU with 0 = 50 / 150 = 1/3 -> kept at 0.5
                  ], float)
SCORES = np.array([0.9, 0.8, 0.7, 0.6])


def test_nms_hand_example():
    np.testing.assert_array_equal(nms(BOXES, SCORES, 0.5), [0, 2, 3])
    np.testing.assert_array_equal(nms(BOXES, SCORES, 0.3), [0, 2])        # 1/3 > 0.3: gone
    np.testing.assert_array_equal(nms(BOXES, SCORES, 0.7), [0, 1, 2, 3])  # 0.68 <= 0.7


def test_nms_keeps_iou_equal_to_threshold_and_orders_by_score():
    boxes = np.array([[0, 0, 2, 2], [1, 0, 3, 2]], float)   # IoU exactly 1/3
    np.testing.assert_array_equal(nms(boxes, [0.1, 0.9], 1 / 3), [1, 0])
    np.testing.assert_array_equal(nms(boxes, [0.1, 0.9], 0.3), [1])
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


def test_nms_matches_a_brute_force_reference():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 20, (60, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(2, 8, (60, 2))], 1)
    scores = rng.random(60)
    keep = nms(boxes, scores, 0.4)
    # every kept pair overlaps <= 0.4, and every dropped box overlaps a better kept one > 0.4
    M = iou_matrix(boxes, boxes)
    assert (M[np.ix_(keep, keep)][~np.eye(len(keep), dtype=bool)] <= 0.4).all()
    for d in set(range(60)) - set(keep.tolist()):
        assert any(M[d, k] > 0.4 and scores[k] >= scores[d] for k in keep)
    assert (np.diff(scores[keep]) <= 0).all()


def test_nms_per_class_never_suppresses_another_class():
    classes = np.array([3, 8, 3, 3])
    np.testing.assert_array_equal(batched_nms(BOXES, SCORES, classes, 0.5), [0, 1, 2, 3])
    classes = np.array([3, 3, 8, 3])
    np.testing.assert_array_equal(batched_nms(BOXES, SCORES, classes, 0.5), [0, 2, 3])


def test_non_max_suppression_score_threshold_and_max_boxes():
    classes = np.zeros(4, int)
    np.testing.assert_array_equal(non_max_suppression(BOXES, SCORES, classes, 0.65, 0.5, 10), [0, 2])
    np.testing.assert_array_equal(non_max_suppression(BOXES, SCORES, classes, 0.0, 0.5, 2), [0, 2])
    np.testing.assert_array_equal(non_max_suppression(BOXES, SCORES, classes, 0.95), [])
    with pytest.raises(ValueError, match="iou_threshold must be in"):
        nms(BOXES, SCORES, 1.5)
    with pytest.raises(ValueError, match=r"scores must have shape \(4,\)"):
        nms(BOXES, SCORES[:3])


# ---- anchors -------------------------------------------------------------------------------------
def test_shape_iou_by_hand():
    # (2, 1) vs (1, 2) on one center: inter 1 x 1, union 2 + 2 - 1
    np.testing.assert_allclose(shape_iou([[2, 1]], [[1, 2], [2, 1], [4, 2]]), [[1 / 3, 1, 0.25]])


def test_kmeans_anchors_finds_the_two_shapes_seeded():
    rng = np.random.default_rng(0)
    tall = np.array([0.4, 0.1]) * rng.uniform(0.95, 1.05, (100, 2))
    wide = np.array([0.1, 0.3]) * rng.uniform(0.95, 1.05, (100, 2))
    a = kmeans_anchors(np.concatenate([tall, wide]), 2, seed=1)
    np.testing.assert_allclose(a, [[0.1, 0.3], [0.4, 0.1]], rtol=0.02)   # smallest area first
    np.testing.assert_array_equal(a, kmeans_anchors(np.concatenate([tall, wide]), 2, seed=1))
    with pytest.raises(ValueError, match="need 1 <= k"):
        kmeans_anchors(tall[:3], 4)


def test_anchor_grid_centers():
    g = anchor_grid(2, [[0.5, 0.25]])
    assert g.shape == (2, 2, 1, 4)
    np.testing.assert_array_equal(g[1, 0, 0], [0.25, 0.75, 0.5, 0.25])    # row 1 (y), column 0 (x)


def test_assign_cell_of_center_and_best_anchor():
    anchors = [[0.1, 0.1], [0.4, 0.1]]             # a square and a tall anchor
    boxes = np.array([[0.30, 0.55, 0.40, 0.95],   # center (0.35, 0.75): cell row 3, col 1; tall
                      [0.60, 0.10, 0.70, 0.20],   # center (0.65, 0.15): row 0, col 2; square
                      [0.90, 0.90, 1.00, 1.00]])  # center (0.95, 0.95): the last cell
    i, j, b = assign_anchors(boxes, 4, anchors)
    np.testing.assert_array_equal(i, [3, 0, 3])
    np.testing.assert_array_equal(j, [1, 2, 3])
    np.testing.assert_array_equal(b, [1, 0, 0])


def test_assign_two_objects_in_one_cell_take_two_anchors_then_none():
    anchors = [[0.1, 0.1], [0.4, 0.1]]
    boxes = np.array([[0.01, 0.01, 0.11, 0.11],   # square, fits anchor 0 perfectly
                      [0.02, 0.02, 0.11, 0.12],   # square too, fits anchor 0 less well
                      [0.03, 0.03, 0.10, 0.10]])  # a third one: no free anchor left
    _, _, b = assign_anchors(boxes, 4, anchors)
    np.testing.assert_array_equal(b, [0, 1, -1])


def test_yolo_targets_layout():
    anchors = [[0.1, 0.1], [0.4, 0.1]]
    boxes = np.array([[0.30, 0.55, 0.40, 0.95]])
    Y = yolo_targets(boxes, [7], 4, anchors, 10)
    assert Y.shape == (4, 4, 2, 15) and Y.dtype == np.float32
    np.testing.assert_allclose(Y[3, 1, 1, :5], [1, 0.35, 0.75, 0.4, 0.1], rtol=1e-6)
    assert Y[3, 1, 1, 5 + 7] == 1 and Y[..., 0].sum() == 1 and Y.sum() == pytest.approx(1 + 1.6 + 1)
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 10\)"):
        yolo_targets(boxes, [10], 4, anchors, 10)
    with pytest.raises(ValueError, match="anchors must be positive"):
        yolo_targets(boxes, [1], 4, [[0.1, 0]], 10)


# ---- mAP ---------------------------------------------------------------------------------------
def test_average_precision_by_hand():
    # 3 objects; detections by score: TP, FP, TP -> precision 1, 1/2, 2/3 at recall 1/3, 1/3, 2/3
    # envelope: 1 at 1/3, 2/3 at 2/3 -> AP = 1/3 * 1 + 1/3 * 2/3 = 5/9
    assert average_precision([1 / 3, 1 / 3, 2 / 3], [1, 1 / 2, 2 / 3]) == pytest.approx(5 / 9)
    assert average_precision([0.5, 1.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert average_precision([], []) == 0.0


def test_match_detections_each_object_once():
    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    det = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 24, 30], [50, 50, 60, 60]], float)
    # det 1 overlaps object 0 (IoU .81) but det 0 took it; det 2 has IoU 0.4 with object 1
    np.testing.assert_array_equal(match_detections(det, [0.9, 0.8, 0.7, 0.6], gt),
                                  [True, False, False, False])
    np.testing.assert_array_equal(match_detections(det, [0.9, 0.8, 0.7, 0.6], gt, 0.4),
                                  [True, False, True, False])
    # by score, not by position: the later, better-scored duplicate gets the object
    np.testing.assert_array_equal(match_detections(det[:2], [0.1, 0.8], gt), [False, True])


def test_mean_average_precision_hand_case():
    # image 0: a "0" found (0.9) and a false "0" (0.8); image 1: the "0" found late (0.7),
    # a "1" found (0.95); a second "1" in image 1 is never found.
    gts = [(np.array([[0, 0, 10, 10]], float), np.array([0])),
           (np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], float), np.array([0, 1, 1]))]
    dets = [(np.array([[0, 0, 10, 10], [30, 30, 40, 40]], float), np.array([0.9, 0.8]), np.array([0, 0])),
            (np.array([[1, 0, 10, 10], [20, 0, 30, 10]], float), np.array([0.7, 0.95]), np.array([0, 1]))]
    r = mean_average_precision(dets, gts, num_classes=3)
    # class 0: TP (.9), FP (.8), TP (.7) of 2 objects: P = 1, 1/2, 2/3 at R = 1/2, 1/2, 1
    #          AP = 1/2 * 1 + 1/2 * 2/3 = 5/6
    # class 1: TP (.95) of 2 objects: AP = 1/2 * 1 = 1/2; class 2: no objects -> NaN, left out
    np.testing.assert_allclose(r["ap"][:2], [5 / 6, 1 / 2])
    assert np.isnan(r["ap"][2])
    assert r["mAP"] == pytest.approx((5 / 6 + 1 / 2) / 2)
    np.testing.assert_array_equal(r["num_objects"], [2, 2, 0])
    np.testing.assert_array_equal(r["num_detections"], [3, 1, 0])


def test_mean_average_precision_perfect_and_empty():
    gts = [(np.array([[0, 0, 4, 4]], float), np.array([2]))]
    assert mean_average_precision([(gts[0][0], np.array([0.5]), gts[0][1])], gts)["mAP"] == 1.0
    r = mean_average_precision([(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))], gts)
    assert r["ap"][2] == 0.0 and r["mAP"] == 0.0            # objects, no detections: AP 0
    with pytest.raises(ValueError, match="2 detection lists for 1 images"):
        mean_average_precision([gts[0], gts[0]], gts)
