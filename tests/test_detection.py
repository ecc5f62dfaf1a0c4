"""Detection: the losses (hand values and gradient checks), YOLO decoding and filtering, the
convolutional sliding windows, the MNIST canvases, short training runs, saving, the CLI."""

import numpy as np
import pytest
from shared_data import DATA, needs_mnist

import gradwise as gw
from gradwise import nn
from gradwise.check import gradcheck
from gradwise.optim import Adam
from gradwise.vision import (
    YOLO,
    LandmarkHead,
    LocalizationHead,
    center_to_corners,
    convolutionalize,
    corners_to_center,
    iou,
    landmark_loss,
    load_detector,
    localization_loss,
    make_mnist_detection,
    mean_average_precision,
    paste_digits,
    resize_digits,
    resize_matrix,
    save_detector,
    sliding_windows,
    window_stride,
    yolo_eval,
    yolo_filter_boxes,
    yolo_head,
    yolo_loss,
    yolo_targets,
)

LOG2, LOG3 = np.log(2.0), np.log(3.0)


# ---- the localization loss -----------------------------------------------------------------------
def test_localization_loss_hand_value():
    out = gw.zeros(2, 8, dtype=np.float64)                  # t_o = 0, box 0, logits 0 (C = 3)
    Y = np.array([[1, 0.5, 0.5, 0.2, 0.4, 0, 1, 0],        # an object: all three terms
                  [0, 0.9, 0.9, 0.9, 0.9, 0, 0, 1]])       # none: the logistic term only
    # row 0: -log sigmoid(0) + (0.25 + 0.25 + 0.04 + 0.16) + log 3;  row 1: log 2
    expected = (LOG2 + 0.7 + LOG3 + LOG2) / 2
    assert localization_loss(out, Y).item() == pytest.approx(expected)


def test_localization_loss_ignores_box_and_class_without_object():
    rng = np.random.default_rng(0)
    out = gw.tensor(rng.standard_normal((4, 8)), requires_grad=True)
    Y = np.zeros((4, 8))
    Y[:2, 0] = 1
    Y[:2, 1:5] = rng.random((2, 4))
    Y[:2, 5] = 1
    Y[2:, 1:] = rng.random((2, 7))                           # garbage where pc = 0
    localization_loss(out, Y).backward()
    assert (out.grad[2:, 1:] == 0).all() and (out.grad[2:, 0] != 0).all()
    assert (out.grad[:2] != 0).all()


def test_localization_loss_gradcheck():
    rng = np.random.default_rng(1)
    Y = np.zeros((5, 9))
    Y[:3, 0] = 1
    Y[:3, 1:5] = rng.random((3, 4))
    Y[np.arange(3), 5 + rng.integers(0, 4, 3)] = 1
    gradcheck(lambda out: localization_loss(out, Y), [rng.standard_normal((5, 9))])


def test_localization_loss_checks_its_target():
    out = gw.zeros(2, 8)
    with pytest.raises(ValueError, match=r"target shape \(2, 7\) must equal the output's \(2, 8\)"):
        localization_loss(out, np.zeros((2, 7)))
    with pytest.raises(ValueError, match="pc .* must be 0 or 1"):
        localization_loss(out, np.full((2, 8), 0.5))
    with pytest.raises(ValueError, match=r"\(m, 5 \+ C\)"):
        localization_loss(gw.zeros(2, 5), np.zeros((2, 5)))


def test_localization_head_decode():
    head = LocalizationHead(6, 3)
    out = head(gw.randn(4, 6))
    assert out.shape == (4, 8)
    pc, box, probs = LocalizationHead.decode(np.array([[0.0, 0.1, 0.2, 0.3, 0.4, 0, 0, np.log(2)]]))
    np.testing.assert_allclose(pc, [0.5])
    np.testing.assert_allclose(box, [[0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(probs, [[0.25, 0.25, 0.5]])


def test_decoding_does_not_overflow_on_large_logits():
    """The sigmoid and softmax of decoding are the stable ones: a logit of -1000 gives
    pc = 0 and a class logit of 1000 probability 1, without an overflow."""
    out = np.zeros((2, 8))
    out[0, 0], out[1, 0], out[0, 7] = -1000.0, 1000.0, 1000.0
    with np.errstate(over="raise", invalid="raise"):
        pc, _, probs = LocalizationHead.decode(out)
        yolo = np.zeros((1, 1, 1, 1, 8))
        yolo[..., 0], yolo[..., 1], yolo[..., 5] = -1000.0, 1000.0, 1000.0
        pc_yolo, boxes, probs_yolo = yolo_head(yolo, [[0.5, 0.5]])
    np.testing.assert_allclose(pc, [0.0, 1.0])
    np.testing.assert_allclose(probs, [[0, 0, 1], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(pc_yolo, 0.0)
    np.testing.assert_allclose(boxes[..., 0], 1.0)              # (j + sigmoid(1000)) / S
    np.testing.assert_allclose(probs_yolo[..., 0], 1.0)


# ---- landmarks -------------------------------------------------------------------------------------
def test_landmark_loss_hand_value_and_visibility():
    pred = gw.tensor(np.array([[[0.5, 0.5], [0.0, 1.0]]]))
    target = np.array([[[0.2, 0.1], [1.0, 1.0]]])
    assert landmark_loss(pred, target).item() == pytest.approx(0.09 + 0.16 + 1.0)
    assert landmark_loss(pred, target, visible=[[1, 0]]).item() == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"visible must be \(m, L\)"):
        landmark_loss(pred, target, visible=[1, 0])


def test_landmark_loss_gradcheck():
    rng = np.random.default_rng(2)
    t, v = rng.random((3, 5, 2)), (rng.random((3, 5)) > 0.3).astype(float)
    gradcheck(lambda p: landmark_loss(p, t, v), [rng.random((3, 5, 2))])


def test_landmark_head_learns_dot_positions():
    """Two bright dots per 12 x 12 image; the head regresses their (x, y)."""
    gw.manual_seed(0)
    rng = np.random.default_rng(0)
    m = 256
    X = np.zeros((m, 1, 12, 12), np.float32)
    pts = rng.integers(0, 12, (m, 2, 2))                     # (row, col) of each dot
    for k in range(2):
        X[np.arange(m), 0, pts[:, k, 0], pts[:, k, 1]] = 1
    target = (pts[..., ::-1] + 0.5) / 12                      # (x, y) fractions of the image
    model = nn.Sequential(nn.Flatten(), nn.Linear(144, 64), nn.ReLU(), LandmarkHead(64, 2))
    opt = Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(150):
        loss = landmark_loss(model(gw.Tensor(X)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert model(gw.Tensor(X)).shape == (m, 2, 2)
    assert losses[-1] < 0.25 * losses[0]


# ---- YOLO: the loss --------------------------------------------------------------------------------
ANCHOR = np.array([[0.5, 0.25]])                               # (bh, bw)


def test_yolo_loss_hand_value():
    # S = 2, B = 1, C = 2; one object centred at (0.3, 0.8), bh = 0.25, bw = 0.5: cell row 1, col 0
    box = center_to_corners([[0.3, 0.8, 0.25, 0.5]])
    Y = yolo_targets(box, [1], 2, ANCHOR, 2)[None].astype(np.float64)
    out = gw.zeros(1, 2, 2, 1, 7, dtype=np.float64)
    # offsets in the cell (0.6, 0.6) vs sigmoid(0) = 0.5; sizes log(0.25/0.5), log(0.5/0.25) vs 0
    coord = 5.0 * (0.1 ** 2 + 0.1 ** 2 + 2 * LOG2 ** 2)
    confidence = LOG2 + 0.5 * 3 * LOG2                        # the object's cell, three empty ones
    klass = LOG2
    assert yolo_loss(out, Y, ANCHOR).item() == pytest.approx(confidence + coord + klass)
    assert yolo_loss(out, Y, ANCHOR, lambda_coord=1, lambda_noobj=1).item() == pytest.approx(
        4 * LOG2 + coord / 5 + klass)


def _random_targets(rng, N=2, S=3, anchors=((0.3, 0.2), (0.5, 0.5)), C=3):
    Ys = []
    for _ in range(N):
        k = 2
        c = np.concatenate([rng.uniform(0.2, 0.8, (k, 2)), rng.uniform(0.1, 0.5, (k, 2))], 1)
        Ys.append(yolo_targets(center_to_corners(c), rng.integers(0, C, k), S, anchors, C))
    return np.stack(Ys).astype(np.float64)


def test_yolo_loss_gradcheck():
    rng = np.random.default_rng(3)
    anchors = np.array([[0.3, 0.2], [0.5, 0.5]])
    Y = _random_targets(rng, anchors=anchors)
    assert Y[..., 0].sum() == 4
    gradcheck(lambda out: yolo_loss(out, Y, anchors), [rng.standard_normal(Y.shape)])


def test_yolo_loss_only_confidence_where_no_object():
    rng = np.random.default_rng(4)
    anchors = np.array([[0.3, 0.2], [0.5, 0.5]])
    Y = _random_targets(rng, anchors=anchors)
    out = gw.tensor(rng.standard_normal(Y.shape), requires_grad=True)
    yolo_loss(out, Y, anchors).backward()
    empty = Y[..., 0] == 0
    assert (out.grad[empty][:, 1:] == 0).all() and (out.grad[empty][:, 0] != 0).all()
    assert (out.grad[~empty] != 0).all()


def test_yolo_loss_checks_shapes():
    with pytest.raises(ValueError, match=r"yolo_loss: output must be \(N, S, S, B=1, 5 \+ C\)"):
        yolo_loss(gw.zeros(1, 2, 2, 2, 7), np.zeros((1, 2, 2, 2, 7)), ANCHOR)
    with pytest.raises(ValueError, match="target shape"):
        yolo_loss(gw.zeros(1, 2, 2, 1, 7), np.zeros((1, 2, 2, 1, 6)), ANCHOR)


# ---- YOLO: from outputs to boxes ---------------------------------------------------------------
def _logit(p):
    return np.log(p / (1 - p))


def _perfect_output(Y, anchors, confidence=8.0):
    """Raw outputs that decode exactly to the boxes of the targets Y."""
    S = Y.shape[1]
    out = np.full(Y.shape, -confidence)
    pc = Y[..., 0] > 0
    j = np.arange(S).reshape(1, 1, S, 1)
    i = np.arange(S).reshape(1, S, 1, 1)
    out[..., 1] = np.where(pc, _logit(np.clip(Y[..., 1] * S - j, 1e-6, 1 - 1e-6)), 0)
    out[..., 2] = np.where(pc, _logit(np.clip(Y[..., 2] * S - i, 1e-6, 1 - 1e-6)), 0)
    out[..., 3:5] = np.where(pc[..., None], np.log(np.where(pc[..., None], Y[..., 3:5], 1) / anchors), 0)
    out[..., 0] = np.where(pc, confidence, -confidence)
    out[..., 5:] = confidence * (2 * Y[..., 5:] - 1)
    return out


def test_yolo_head_hand_value():
    out = np.zeros((1, 2, 2, 1, 7))
    out[0, 1, 0, 0, :5] = [10, 0, 0, LOG2, 0]
    pc, boxes, probs = yolo_head(out, ANCHOR)
    np.testing.assert_allclose(pc[0, 1, 0, 0], 1 / (1 + np.exp(-10)))
    np.testing.assert_allclose(boxes[0, 1, 0, 0], [0.25, 0.75, 1.0, 0.25])   # bh = 2 anchor_h
    np.testing.assert_allclose(boxes[0, 0, 1, 0], [0.75, 0.25, 0.5, 0.25])
    np.testing.assert_allclose(probs, 0.5)


def test_yolo_filter_boxes_course_rule():
    pc = np.array([0.9, 0.5, 0.99])
    probs = np.array([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
    boxes = np.arange(12.0).reshape(3, 4)
    scores, b, classes = yolo_filter_boxes(pc, boxes, probs, threshold=0.6)
    np.testing.assert_allclose(scores, [0.72])                # 0.45 and 0.495 fall below 0.6
    np.testing.assert_array_equal(classes, [1])
    np.testing.assert_array_equal(b, boxes[:1])


def test_yolo_eval_recovers_encoded_boxes_and_suppresses_duplicates():
    anchors = np.array([[0.3, 0.2], [0.5, 0.5]])
    corners = np.array([[0.1, 0.1, 0.3, 0.4], [0.5, 0.6, 0.9, 0.95]])
    Y = yolo_targets(corners, [2, 0], 4, anchors, 3)[None]
    out = _perfect_output(Y.astype(np.float64), anchors)
    found = yolo_eval(out, anchors, (64, 64), score_threshold=0.5)
    assert len(found) == 1 and len(found[0]) == 2
    order = np.argsort(found[0].labels)
    np.testing.assert_allclose(found[0].boxes[order], corners[[1, 0]] * 64, atol=1e-3)
    np.testing.assert_array_equal(found[0].labels[order], [0, 2])
    # the same "2" predicted again by the other anchor of its cell, slightly weaker: NMS drops it
    i, j = 1, 0                                                # center (0.2, 0.25): row 1, col 0
    b = 1 - int(np.flatnonzero(Y[0, i, j, :, 0])[0])
    out[0, i, j, b] = out[0, i, j, 1 - b]
    out[0, i, j, b, 0] = 6.0
    out[0, i, j, b, 3:5] += np.log(anchors[1 - b] / anchors[b])
    assert len(yolo_eval(out, anchors, (64, 64), 0.5, iou_threshold=0.5)[0]) == 2
    assert len(yolo_eval(out, anchors, (64, 64), 0.5, iou_threshold=1.0)[0]) == 3


# ---- sliding windows, convolutionally -----------------------------------------------------------
def _course_classifier():
    """The lecture's example: 14 x 14 x 3 -> CONV 5x5 16 -> POOL 2 -> FC 400 -> FC 400 -> softmax 4."""
    return nn.Sequential(nn.Conv2d(3, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(),
                         nn.Linear(400, 4), nn.Softmax(axis=1))


@pytest.mark.parametrize("size, out_hw", [(14, 1), (16, 2), (28, 8)])
def test_convolutional_sliding_windows_equal_every_window(size, out_hw):
    gw.manual_seed(0)
    classifier = _course_classifier().eval()
    conv = convolutionalize(classifier, (3, 14, 14)).eval()
    assert not any(isinstance(layer, (nn.Linear, nn.Flatten)) for layer in conv)
    X = gw.randn(2, 3, size, size)
    with gw.no_grad():
        once = conv(X).data
    assert once.shape == (2, 4, out_hw, out_hw)
    assert window_stride(classifier) == 2
    by_window = sliding_windows(classifier, X, 14, stride=2)
    np.testing.assert_allclose(once, by_window, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(once.sum(axis=1), 1, rtol=1e-5)        # softmax over channels


def test_convolutionalize_batch_norm_dropout_and_errors():
    gw.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                          nn.Linear(36, 10), nn.BatchNorm1d(10), nn.Dropout(0.5), nn.Tanh(),
                          nn.Linear(10, 3))
    model(gw.randn(8, 1, 7, 7))                    # training steps move the running statistics
    model.eval()
    conv = convolutionalize(model, (1, 7, 7)).eval()
    X = gw.randn(1, 1, 11, 11)
    np.testing.assert_allclose(conv(X).data, sliding_windows(model, X, 7, window_stride(model)),
                               rtol=1e-5, atol=1e-6)
    padded = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Flatten(), nn.Linear(98, 2))
    with pytest.raises(ValueError, match="layer 0 .* pads its input"):
        convolutionalize(padded, (1, 7, 7))
    with pytest.raises(ValueError, match="no Flatten"):
        convolutionalize(nn.Sequential(nn.Conv2d(1, 2, 3)), (1, 7, 7))


# ---- the MNIST canvases --------------------------------------------------------------------------
def test_resize_digits_is_bilinear():
    R = resize_matrix(4, 8)                             # doubling: samples at 0.25 - 0.5 + k / 2
    np.testing.assert_allclose(R[:3], [[1, 0, 0, 0], [0.75, 0.25, 0, 0], [0.25, 0.75, 0, 0]])
    np.testing.assert_allclose(resize_matrix(28, 20).sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(resize_matrix(28, 28), np.eye(28))
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[:, 8:20, 12:16] = 255
    a, b = resize_digits(digits, np.array([56, 14]))
    assert a.shape == (56, 56) and b.shape == (14, 14)
    assert a[18:38, 26:30].min() == 1.0 and a[:15].max() == 0 and b[4:10, 6:8].min() == 1.0


def test_paste_digits_boxes_hold_the_ink():
    rng = np.random.default_rng(0)
    bar = np.zeros((28, 28), np.float32)
    bar[8:20, 12:16] = 1                                # a bar: its ink box is 4 wide, 12 high
    canvas, boxes, labels = paste_digits([bar] * 3, np.array([1, 2, 3]), rng, 64, 0.0)
    assert canvas.shape == (64, 64) and boxes.shape == (3, 4)
    np.testing.assert_array_equal(boxes[:, 2] - boxes[:, 0], 4)    # width 4, height 12
    np.testing.assert_array_equal(boxes[:, 3] - boxes[:, 1], 12)
    for x1, y1, x2, y2 in boxes.astype(int):
        assert canvas[y1:y2, x1:x2].min() == 1.0       # each box is exactly its bar
    assert canvas.sum() == pytest.approx(3 * 48)
    assert labels.tolist() == [1, 2, 3]


def test_paste_digits_overlap_test_is_the_iou_formula():
    """The placement's overlap test on plain integers decides as iou() does on the arrays,
    empty boxes and touching boxes included."""
    from gradwise.vision.detection.boxes import _iou, _overlaps
    rng = np.random.default_rng(1)
    for _ in range(500):
        corners = rng.integers(0, 12, size=(4, 2, 2))   # 4 boxes of 2 corners (x, y)
        corners.sort(axis=1)                            # x1 <= x2, y1 <= y2 (some empty)
        boxes = [tuple(c.ravel().tolist()) for c in corners]   # (x1, y1, x2, y2)
        box, others = boxes[0], boxes[1:]
        for max_iou in (0.0, 0.1, 0.25, 0.5, 1.0):
            expected = bool((_iou(np.array([box], np.float32), np.array(others, np.float32))
                             > max_iou).any())
            assert _overlaps(box, others, max_iou) == expected, (box, others, max_iou)
    assert not _overlaps((0, 0, 4, 4), [], 0.0)


@needs_mnist
def test_mnist_detection_is_seeded_and_boxes_are_tight():
    a = make_mnist_detection(40, seed=5, data_dir=DATA)
    b = make_mnist_detection(40, seed=5, data_dir=DATA)
    c = make_mnist_detection(40, split="test", seed=5, data_dir=DATA)
    np.testing.assert_array_equal(a.images, b.images)
    assert all((x == y).all() for x, y in zip(a.boxes, b.boxes))
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (40, 1, 64, 64) and a.images.dtype == np.float32
    counts = [len(lab) for lab in a.labels]
    assert 1 <= min(counts) and max(counts) <= 4 and len(set(counts)) > 1
    for img, boxes, labels in (a[i] for i in range(len(a))):
        inside = np.zeros((64, 64), bool)
        for x1, y1, x2, y2 in boxes.astype(int):
            assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
            assert img[0, y1:y2, x1:x2].max() >= 0.3                  # ink in every box
            assert img[0, y1, x1:x2].max() >= 0.3 and img[0, y2 - 1, x1:x2].max() >= 0.3  # tight
            inside[y1:y2, x1:x2] = True
        assert (img[0][~inside] < 0.3).all()                        # no ink outside the boxes
        assert labels.dtype == np.int64 and ((labels >= 0) & (labels <= 9)).all()
    sizes = np.concatenate([bx[:, 3] - bx[:, 1] for bx in a.boxes])
    assert sizes.max() - sizes.min() >= 8                                 # varied scale


def test_make_mnist_detection_checks_arguments():
    with pytest.raises(ValueError, match="split must be"):
        make_mnist_detection(2, split="val")
    with pytest.raises(ValueError, match="digit_size"):
        make_mnist_detection(2, digit_size=(20, 80))


# ---- training: short runs that show the losses falling -------------------------------------------
@needs_mnist
def test_localization_head_learns_one_digit():
    """A small CNN with a LocalizationHead on 32 x 32 canvases of one digit, half of them
    blank (pc = 0): the piecewise loss falls and the boxes move onto the digits."""
    gw.manual_seed(0)
    data = make_mnist_detection(96, canvas_size=32, digits=(1, 1), digit_size=(16, 24),
                                seed=0, data_dir=DATA)
    X = data.images.copy()
    Y = np.zeros((96, 15), np.float32)
    for k in range(96):
        Y[k, 1:5] = corners_to_center(data.normalized_boxes(k))[0]
        Y[k, 5 + data.labels[k][0]] = 1
        Y[k, 0] = 1
    X[48:] = 0
    Y[48:] = 0                                                        # blank canvases
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(16 * 8 * 8, 64), nn.ReLU(), LocalizationHead(64, 10))
    def box_iou():
        _, box, _ = LocalizationHead.decode(model(gw.Tensor(X[:48])))
        return iou(center_to_corners(np.abs(box)), center_to_corners(Y[:48, 1:5])).mean()

    before = box_iou()
    opt = Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(60):
        loss = localization_loss(model(gw.Tensor(X)), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    pc, _, _ = LocalizationHead.decode(model(gw.Tensor(X)))
    assert (pc[:48] > 0.5).mean() > 0.9 and (pc[48:] < 0.5).mean() > 0.9
    assert box_iou() > max(0.25, 3 * before)


@needs_mnist
def test_yolo_short_training_run_lowers_the_loss():
    gw.manual_seed(0)
    data = make_mnist_detection(64, seed=0, data_dir=DATA)
    model = YOLO(10, [[0.28, 0.18], [0.34, 0.3]], channels=(8, 16, 32, 32), stem_stride=2)
    assert model.grid == 4
    Y = data.targets(model.grid, model.anchors)
    opt = Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(24):
        idx = np.arange(32) + 32 * (step % 2)
        loss = model.loss(model(gw.Tensor(data.images[idx])), Y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-4:]) < 0.65 * np.mean(losses[:2])


# ---- the network, saving and loading ------------------------------------------------------------
def test_yolo_shapes_errors_and_detect():
    model = YOLO(3, [[0.2, 0.2]], image_size=32, channels=(4, 8), stem_stride=1)
    assert model.grid == 16
    out = model(gw.randn(2, 1, 32, 32))
    assert out.shape == (2, 16, 16, 1, 8)
    with pytest.raises(ValueError, match=r"YOLO: expected images \(N, 1, 32, 32\)"):
        model(gw.randn(2, 1, 28, 28))
    with pytest.raises(ValueError, match="multiple of the total stride 16"):
        YOLO(3, [[0.2, 0.2]], image_size=40, channels=(4, 8, 8, 8), stem_stride=2)
    found = model.detect(np.random.default_rng(0).random((3, 1, 32, 32)), score_threshold=0.0,
                         max_boxes=5)
    assert len(found) == 3 and all(len(f) == 5 for f in found)
    assert model.training                                       # detect restores the mode
    model.features[1].eval()                                    # a frozen batch norm stays so
    model.detect(np.zeros((1, 1, 32, 32)))
    assert model.training and not model.features[1].training
    b = found[0].boxes
    assert (b[:, :2] >= 0).all() and (b[:, 2:] <= 32).all() and (b[:, :2] <= b[:, 2:]).all()


def test_save_and_load_detector(tmp_path):
    gw.manual_seed(0)
    model = YOLO(2, [[0.3, 0.2], [0.5, 0.5]], image_size=32, channels=(4, 8), class_names=("a", "b"))
    model(gw.randn(4, 1, 32, 32))                               # move batch-norm statistics
    model.eval()
    path = tmp_path / "det.npz"
    save_detector(model, path, mAP=0.5)
    again = load_detector(path)
    assert again.class_names == ("a", "b") and again.info["mAP"] == 0.5
    np.testing.assert_array_equal(again.anchors, model.anchors)
    X = gw.randn(2, 1, 32, 32)
    np.testing.assert_array_equal(again(X).data, model(X).data)
    gw.save({"model": model.state_dict()}, tmp_path / "plain.npz")
    with pytest.raises(ValueError, match="not a detector saved by save_detector"):
        load_detector(tmp_path / "plain.npz")


def test_mean_average_precision_of_perfect_yolo_outputs():
    anchors = np.array([[0.3, 0.2], [0.5, 0.5]])
    rng = np.random.default_rng(7)
    gts, outs = [], []
    for _ in range(5):
        c = np.concatenate([rng.uniform(0.2, 0.8, (2, 2)), rng.uniform(0.1, 0.3, (2, 2))], 1)
        labels = rng.integers(0, 3, 2)
        Y = yolo_targets(center_to_corners(c), labels, 4, anchors, 3)
        if Y[..., 0].sum() < 2:
            continue
        outs.append(_perfect_output(Y[None].astype(np.float64), anchors)[0])
        gts.append((center_to_corners(c) * 64, labels))
    found = yolo_eval(np.stack(outs), anchors, (64, 64), score_threshold=0.1)
    assert mean_average_precision(found, gts, 3)["mAP"] == pytest.approx(1.0)


# ---- the recipe and the command line ----------------------------------------------------------
@needs_mnist
def test_recipe_trains_evaluates_and_saves(tmp_path):
    from gradwise.vision.detection.digits import train_digit_detector

    lines = []
    _, report = train_digit_detector(tmp_path / "d.npz", n_train=64, n_test=16, epochs=1,
                                         channels=(8, 16, 16, 16), data_dir=DATA, verbose=0,
                                         echo=lines.append)
    assert 0.0 <= report["mAP"] <= 1.0 and len(report["ap"]) == 10 and len(report["history"]) == 1
    assert "mAP@0.5 on 16 held-out canvases" in lines[1] and "saved the detector" in lines[2]
    again = load_detector(tmp_path / "d.npz")
    assert again.info["mAP"] == pytest.approx(report["mAP"]) and again.channels == (8, 16, 16, 16)


@needs_mnist
def test_recipe_repeats_with_its_seed():
    """The same seed trains the same detector, whatever was drawn before the call; another
    seed trains another."""
    from gradwise.vision.detection.digits import train_digit_detector

    def weights(seed):
        gw.randn(3)                     # the global generator in some other state each time
        model, _ = train_digit_detector(None, n_train=32, n_test=8, epochs=1, seed=seed,
                                        channels=(8, 8, 8, 8), data_dir=DATA, verbose=0,
                                        echo=lambda line: None)
        return [p.numpy().copy() for p in model.parameters()]

    a, b, c = weights(0), weights(0), weights(1)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    assert not all(np.array_equal(p, r) for p, r in zip(a, c))


@needs_mnist
def test_fresh_canvases_change_every_epoch_and_repeat_with_the_seed():
    from gradwise.data import random_state
    from gradwise.vision.detection.digits import FreshCanvases

    anchors = np.array([[0.28, 0.18], [0.34, 0.3]])
    a = FreshCanvases(10, 4, 4, anchors, seed=3, data_dir=DATA)
    b = FreshCanvases(10, 4, 4, anchors, seed=3, data_dir=DATA)
    assert len(a) == 3
    first, second = list(a), list(a)
    assert [len(X) for X, _ in first] == [4, 4, 2]
    assert first[0][0].shape == (4, 1, 64, 64) and first[0][1].shape == (4, 4, 4, 2, 15)
    assert not np.array_equal(first[0][0], second[0][0])          # new canvases each pass
    np.testing.assert_array_equal(list(b)[0][1], first[0][1])       # the same run again
    # a checkpoint holds the passes drawn: a fresh one resumes with the next pass's canvases
    c = FreshCanvases(10, 4, 4, anchors, seed=99, data_dir=DATA)
    assert random_state(a, "train_data") == {"seed": 3, "epoch": 2}
    c.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(list(c)[0][0], list(a)[0][0])


def test_prepare_image_inverts_paper_and_pads_to_square(tmp_path):
    from PIL import Image

    from gradwise.vision.detection.draw import prepare_image

    paper = np.full((20, 40), 255, np.uint8)
    paper[5:15, 30:34] = 0                                     # a dark stroke on white paper
    Image.fromarray(paper).save(tmp_path / "p.png")
    X, frame = prepare_image(tmp_path / "p.png", 64)
    assert X.shape == (1, 1, 64, 64) and frame.inverted and frame.scale == pytest.approx(64 / 40)
    assert X[0, 0, 40:].max() == 0                             # the padding below the picture
    assert X[0, 0, 10:22, 49:53].min() > 0.9                   # the stroke, bright now
    np.testing.assert_allclose(frame.to_image([[48, 8, 54.4, 24]]), [[30, 5, 34, 15]])
    with pytest.raises(ValueError, match="not an image file"):
        (tmp_path / "bad.png").write_bytes(b"not a png")
        prepare_image(tmp_path / "bad.png", 64)
    # a transparent background is paper (composited on white, as load_image does): a dark
    # stroke drawn on it comes out bright, like the stroke on white above
    ink = np.zeros((20, 40, 4), np.uint8)
    ink[5:15, 30:34, 3] = 255                                  # opaque black, the rest clear
    Image.fromarray(ink, "RGBA").save(tmp_path / "t.png")
    Xt, frame_t = prepare_image(tmp_path / "t.png", 64)
    assert frame_t.inverted
    np.testing.assert_array_equal(Xt, X)


def test_detect_command(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from PIL import Image

    from gradwise.cli import main

    gw.manual_seed(0)
    model = YOLO(10, [[0.3, 0.2], [0.4, 0.35]], channels=(4, 8, 8, 8))
    save_detector(model, tmp_path / "w.npz")
    canvas = np.zeros((64, 96), np.uint8)
    canvas[10:30, 20:30] = 255
    Image.fromarray(canvas).save(tmp_path / "c.png")
    runner = CliRunner()
    r = runner.invoke(main, ["detect", str(tmp_path / "c.png"), "--weights", str(tmp_path / "w.npz"),
                             "--score", "0", "--max-boxes", "3"])
    assert r.exit_code == 0, r.output
    assert "3 object(s) found" in r.output and (tmp_path / "c-boxes.png").is_file()
    drawn = Image.open(tmp_path / "c-boxes.png")
    assert drawn.size == (96 * 6, 64 * 6)                     # enlarged to a 384-pixel side
    r = runner.invoke(main, ["detect", str(tmp_path / "c.png"), "--weights", str(tmp_path / "none.npz")])
    assert r.exit_code != 0 and "train one with `gradwise detect --train`" in r.output
    r = runner.invoke(main, ["detect"])
    assert r.exit_code != 0 and "give an IMAGE" in r.output


@needs_mnist
def test_detect_command_sample(tmp_path, monkeypatch):
    from click.testing import CliRunner
    from PIL import Image

    from gradwise.cli import main

    monkeypatch.setenv("GRADWISE_DATA", str(DATA))
    sample = tmp_path / "new" / "s.png"                       # its folder is made
    r = CliRunner().invoke(main, ["detect", "--sample", str(sample), "--seed", "3"])
    assert r.exit_code == 0, r.output
    assert Image.open(sample).size == (64, 64)
    boxes = [line for line in r.output.splitlines() if line.startswith("  ")]
    assert 1 <= len(boxes) <= 4
