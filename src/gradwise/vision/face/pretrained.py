"""Face verification on real photos with dlib's pretrained models, read by gradwise.

The models come from the `face-recognition-models` package (dlib's files, public domain):
the 5-point landmark predictor and the ResNet that maps an aligned chip to 128 numbers.
No dlib at run time: the files are read by gradwise.vision.face.dlib_format.

    box -> 5 landmarks (ShapePredictor) -> aligned 150 x 150 chip (align) -> f(chip) (DlibFaceNet)
    same person  <=>  ||f(a) - f(b)|| < 0.6

The face's box (left, top, right, bottom) comes from the caller, from any face detector;
without one the whole image is taken as the box, which suits photos cropped to the face.

    d, same = verify_faces("a.jpg", "b.jpg")
    db = FaceDatabase(face_net(), threshold=SAME_PERSON_DISTANCE ** 2)   # squared distances
    db.add("grace", face_batch(face_chip(image, box)))
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from .align import align
from .dlib_resnet import CHIP_SIZE, SAME_PERSON_DISTANCE, DlibFaceNet
from .landmarks import ShapePredictor

INSTALL_HINT = "pip install 'gradwise[faces]'"
FACE_NET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"

__all__ = ["face_net", "landmark_predictor", "face_chip", "face_batch", "describe", "verify_faces",
           "model_file", "SAME_PERSON_DISTANCE", "INSTALL_HINT"]


def model_file(name: str) -> Path:
    """The path of one of dlib's model files in the `face-recognition-models` package.
    The package is located, not imported (its own import needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the pretrained face models need the package face-recognition-models: "
                                  f"{INSTALL_HINT}")
    for root in spec.submodule_search_locations:
        path = Path(root) / "models" / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"face-recognition-models is installed but holds no models/{name}; "
                            f"reinstall it: {INSTALL_HINT}")


@functools.cache
def face_net() -> DlibFaceNet:
    """dlib's face ResNet (chips (N, 3, 150, 150) in [0, 1] -> (N, 128)), in eval mode."""
    net = DlibFaceNet.load(model_file(FACE_NET_FILE))
    net.eval()
    return net


@functools.cache
def landmark_predictor() -> ShapePredictor:
    """dlib's 5-point landmark predictor."""
    return ShapePredictor.load(model_file(LANDMARKS_FILE))


def face_chip(image, box=None, landmarks=None) -> np.ndarray:
    """The aligned chip (150, 150, 3) uint8 of the face in an RGB photo (H, W, 3): from its
    5 landmarks when given, else from its box (left, top, right, bottom) through the
    landmark predictor; no box means the whole image."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"face_chip: expected an RGB photo (H, W, 3) uint8, got {image.shape} {image.dtype}")
    if landmarks is None:
        H, W = image.shape[:2]
        box = (0, 0, W - 1, H - 1) if box is None else box
        landmarks = landmark_predictor()(image, box)
    return align(image, landmarks, CHIP_SIZE, 0.25)


def face_batch(chips) -> np.ndarray:
    """Chips (150, 150, 3) or (k, 150, 150, 3) uint8 -> the network's input (k, 3, 150, 150)
    float32 in [0, 1]."""
    X = np.asarray(chips)
    if X.ndim == 3:
        X = X[None]
    if X.ndim != 4 or X.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
        raise ValueError(f"face_batch: expected chips ({CHIP_SIZE}, {CHIP_SIZE}, 3), got {X.shape}")
    return np.ascontiguousarray(X.transpose(0, 3, 1, 2), dtype=np.float32) / np.float32(255.0)


def describe(chips) -> np.ndarray:
    """The 128-number descriptors (k, 128) of aligned chips, as dlib's
    compute_face_descriptor(chip) gives them."""
    from .networks import embed

    return embed(face_net(), face_batch(chips), batch_size=8)


def verify_faces(path_a, path_b, boxes=(None, None)) -> tuple[float, bool]:
    """(||f(a) - f(b)||, whether it is below 0.6) for the faces in two photo files."""
    from ..image_files import open_rgb

    chips = [face_chip(np.asarray(open_rgb(p, "verify_faces")), box) for p, box in zip((path_a, path_b), boxes)]
    d = describe(np.stack(chips))
    dist = float(np.linalg.norm(d[0] - d[1]))
    return dist, dist < SAME_PERSON_DISTANCE
