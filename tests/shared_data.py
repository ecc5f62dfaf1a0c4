"""Where the tests find the real datasets (MNIST, Fashion-MNIST, the course's files):
$GRADWISE_DATA (its first folder) if set, else ../shared/datasets beside the checkout, the
folder .ci/run points GRADWISE_DATA at."""
import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _data_dir() -> Path:
    env = os.environ.get("GRADWISE_DATA")
    return Path(env.split(os.pathsep)[0]) if env else SHARED


DATA = _data_dir()
needs_mnist = pytest.mark.skipif(not (DATA / "mnist").is_dir(),
                                 reason=f"MNIST is not in the datasets folder {DATA}")
