"""Where the tests find the real datasets (MNIST, Fashion-MNIST, the course's files):
$GRADWISE_DATA (its first folder) if set, else ../shared/datasets beside the checkout, the
folder .ci/run points GRADWISE_DATA at.

A test that reads a dataset is marked with the files it needs (needs_mnist, needs_course,
...): without them it is skipped, the reason naming the folder that was searched. The tests
never download (tests/conftest.py refuses every connection beyond this machine)."""
import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _data_dir() -> Path:
    env = os.environ.get("GRADWISE_DATA")
    return Path(env.split(os.pathsep)[0]) if env else SHARED


DATA = _data_dir()

_IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz")
MNIST = tuple(f"mnist/{name}" for name in _IDX)
FASHION_MNIST = tuple(f"fashion-mnist/{name}" for name in _IDX)
CATVNONCAT = ("course/train_catvnoncat.h5", "course/test_catvnoncat.h5")
FOOTBALL = ("course/data.mat",)
SIGNS = ("course/train_signs.h5", "course/test_signs.h5")
HAPPY = ("course/train_happy.h5", "course/test_happy.h5")


def absent(*rels: str) -> list[str]:
    """Those of the files `rels` (e.g. "mnist/t10k-labels-idx1-ubyte.gz") not in DATA."""
    return [rel for rel in rels if not (DATA / rel).is_file()]


def skip_reason(missing) -> str:
    """Why a test that needs the files `missing` is skipped: they and the folder searched."""
    more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
    return (f"{missing[0]}{more} not in the datasets folder {DATA} "
            f"($GRADWISE_DATA, else ../shared/datasets beside the checkout)")


def needs(*rels: str):
    """Skip the test unless every file `rels` is in the datasets folder."""
    missing = absent(*rels)
    return pytest.mark.skipif(bool(missing), reason=skip_reason(missing) if missing else "")


needs_mnist = needs(*MNIST)
needs_fashion_mnist = needs(*FASHION_MNIST)
