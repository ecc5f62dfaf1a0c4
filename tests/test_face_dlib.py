"""Face verification on real photos with dlib's pretrained models read by gradwise, checked
against dlib itself: the landmarks, the aligned chips and the 128-number descriptors agree,
and the verdicts on Grace Hopper and Eileen Collins are the right ones.

Needs the `faces-test` extra (face-recognition-models, dlib-bin, scikit-image); each test
skips, naming the package, when one is absent."""
import numpy as np
import pytest

from gradwise.vision.face import FaceDatabase
from gradwise.vision.face.align import align, similarity_transform
from gradwise.vision.face.dlib_format import DlibReader
from gradwise.vision.face.dlib_resnet import SAME_PERSON_DISTANCE, DlibFaceNet
from gradwise.vision.face.landmarks import ShapePredictor

pretrained = pytest.importorskip("gradwise.vision.face.pretrained")


def _model(name):
    try:
        return pretrained.model_file(name)
    except ModuleNotFoundError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def dlib():
    return pytest.importorskip("dlib", reason="the oracle needs dlib-bin: pip install dlib-bin")


@pytest.fixture(scope="module")
def photos():
    """Grace Hopper (matplotlib's sample) and Eileen Collins (scikit-image's astronaut)."""
    from matplotlib import cbook
    from PIL import Image

    data = pytest.importorskip("skimage.data", reason="the astronaut needs scikit-image")
    with cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    return {"hopper": hopper, "collins": np.ascontiguousarray(data.astronaut()[..., :3])}


@pytest.fixture(scope="module")
def oracle(dlib, photos):
    """dlib's face box, landmarks, chip and descriptor for each photo and its mirror."""
    detector = dlib.get_frontal_face_detector()
    sp = dlib.shape_predictor(str(_model(pretrained.LANDMARKS_FILE)))
    rec = dlib.face_recognition_model_v1(str(_model(pretrained.FACE_NET_FILE)))
    out = {}
    images = dict(photos, hopper_mirror=np.ascontiguousarray(photos["hopper"][:, ::-1]))
    for name, image in images.items():
        box = max(detector(image, 1), key=lambda r: r.area())
        shape = sp(image, box)
        chip = dlib.get_face_chip(image, shape, 150, 0.25)
        out[name] = dict(image=image, box=(box.left(), box.top(), box.right(), box.bottom()),
                         landmarks=np.array([[p.x, p.y] for p in shape.parts()], float), chip=chip,
                         descriptor=np.array(rec.compute_face_descriptor(chip)))
    return out


@pytest.fixture(scope="module")
def net():
    _model(pretrained.FACE_NET_FILE)
    return pretrained.face_net()


def test_descriptors_equal_dlibs_on_the_same_chips(net, oracle):
    chips = np.stack([o["chip"] for o in oracle.values()])
    ours = pretrained.describe(chips)
    theirs = np.stack([o["descriptor"] for o in oracle.values()])
    assert ours.shape == (len(chips), 128)
    assert np.abs(ours - theirs).max() < 1e-4


def test_landmarks_and_chips_equal_dlibs(oracle):
    _model(pretrained.LANDMARKS_FILE)
    predictor = pretrained.landmark_predictor()
    for o in oracle.values():
        np.testing.assert_array_equal(predictor(o["image"], o["box"]), o["landmarks"])
        np.testing.assert_array_equal(align(o["image"], o["landmarks"]), o["chip"])


def test_hopper_and_collins_differ_and_each_matches_herself(net, oracle):
    """From dlib's box on: gradwise's landmarks, chip and descriptor."""
    d = {name: pretrained.describe(pretrained.face_chip(o["image"], o["box"]))[0] for name, o in oracle.items()}
    between = np.linalg.norm(d["hopper"] - d["collins"])
    mirrored = np.linalg.norm(d["hopper"] - d["hopper_mirror"])
    # a closer crop of Collins, scaled by 0.8: the chip's border falls outside it (black)
    from PIL import Image

    image, (l, t, r, b) = oracle["collins"]["image"], oracle["collins"]["box"]
    crop = Image.fromarray(image[t - 8:b + 8, l - 8:r + 8])
    crop = np.asarray(crop.resize((round(crop.width * 0.8), round(crop.height * 0.8)), Image.BILINEAR))
    box = np.array([8, 8, r - l + 8, b - t + 8]) * 0.8
    cropped = np.linalg.norm(d["collins"] - pretrained.describe(pretrained.face_chip(crop, box))[0])
    assert cropped > 0.01                                   # a different chip, the same person
    assert between > SAME_PERSON_DISTANCE
    assert mirrored < SAME_PERSON_DISTANCE and cropped < SAME_PERSON_DISTANCE


def test_face_database_recognises_real_photos(net, oracle):
    chip = {name: pretrained.face_chip(o["image"], o["box"]) for name, o in oracle.items()}
    db = FaceDatabase(net, threshold=SAME_PERSON_DISTANCE ** 2)           # squared distances
    db.add("grace hopper", pretrained.face_batch(chip["hopper"])[0])
    name, _ = db.identify(pretrained.face_batch(chip["hopper_mirror"])[0])
    assert name == "grace hopper"
    assert db.identify(pretrained.face_batch(chip["collins"])[0])[0] is None   # not in the database
    db.add("eileen collins", pretrained.face_batch(chip["collins"])[0])
    assert db.identify(pretrained.face_batch(chip["collins"])[0])[0] == "eileen collins"


def test_cli_verifies_two_photos(net, oracle, tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from gradwise.cli import main

    paths = []
    for name in ("hopper", "collins"):
        o = oracle[name]
        (l, t, r, b) = o["box"]
        paths.append(tmp_path / f"{name}.png")
        Image.fromarray(o["image"][max(t, 0):b + 1, max(l, 0):r + 1]).save(paths[-1])   # cropped to the face
    out = CliRunner().invoke(main, ["verify", "--faces", str(paths[0]), str(paths[1])])
    assert out.exit_code == 0, out.output
    assert "different people" in out.output and "distance" in out.output
    out = CliRunner().invoke(main, ["verify", "--faces", str(paths[0]), str(paths[0])])
    assert "distance 0.0000" in out.output and "the same person" in out.output


def test_a_truncated_or_foreign_file_names_itself(tmp_path):
    source = _model(pretrained.FACE_NET_FILE).read_bytes()
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes(source[:100_000])
    with pytest.raises(ValueError, match="truncated.dat"):
        DlibFaceNet.load(truncated)
    foreign = tmp_path / "foreign.dat"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    for load in (DlibFaceNet.load, ShapePredictor.load):
        with pytest.raises(ValueError, match="foreign.dat"):
            load(foreign)
    with pytest.raises(ValueError, match="landmarks.dat"):             # the wrong kind of model
        ShapePredictor.load(_copy(source, tmp_path / "landmarks.dat"))


def _copy(data, path):
    path.write_bytes(data)
    return path


def test_reader_decodes_dlibs_integers_and_floats(tmp_path):
    # 300 = 0x012c in 2 bytes; -5 with the sign bit; 1.5 = 3 * 2^-1 as (3, -1); "ab"
    path = tmp_path / "values.dat"
    path.write_bytes(bytes([0x02, 0x2C, 0x01, 0x81, 0x05, 0x01, 0x03, 0x81, 0x01, 0x01, 0x02]) + b"ab")
    r = DlibReader(path)
    assert r.int("a") == 300 and r.int("b") == -5 and r.float("c") == 1.5 and r.string("d") == "ab"
    assert r.at_end()


def test_similarity_transform_recovers_rotation_scale_and_shift():
    rng = np.random.default_rng(0)
    P = rng.normal(size=(5, 2))
    c, th = 1.7, 0.3
    A = c * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    A_hat, t_hat = similarity_transform(P, P @ A.T + [3.0, -2.0])
    np.testing.assert_allclose(A_hat, A, atol=1e-12)
    np.testing.assert_allclose(t_hat, [3.0, -2.0], atol=1e-12)
