"""Real datasets and synthetic generators, batch first.

Real data (files found in ``data_dir=``, else ``$GRADWISE_DATA``, else ``~/.cache/gradwise``,
as ``<root>/<dataset>/<file>``; MNIST and Fashion-MNIST are downloaded when absent, every file
is checked against its published size and sha256)::

    from gradwise.datasets import load_mnist, load_catvnoncat, load_planar_dataset
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True)
    (x_tr, y_tr), (x_te, y_te), classes = load_catvnoncat()
    X, y = load_planar_dataset()            # the course's flower, exactly

``show(images, labels, path=...)`` saves a labelled grid of images as a PNG.
"""
from ._store import FILES, DatasetIntegrityError, cache_dir, fetch, search_roots
from .course import (
    HAPPY_CLASSES,
    SIGNS_CLASSES,
    from_course_layout,
    load_catvnoncat,
    load_football,
    load_happy,
    load_signs,
    to_course_layout,
)
from .generators import (
    LOGIC_GATES,
    load_planar_dataset,
    logic_gate,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
)
from .mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx
from .show import show

__all__ = [
    "load_mnist", "load_fashion_mnist", "read_idx", "MNIST_CLASSES", "FASHION_MNIST_CLASSES",
    "load_catvnoncat", "load_signs", "load_happy", "load_football", "to_course_layout",
    "from_course_layout", "SIGNS_CLASSES", "HAPPY_CLASSES",
    "load_planar_dataset", "make_moons", "make_circles", "make_spirals", "make_blobs",
    "logic_gate", "LOGIC_GATES",
    "show", "fetch", "search_roots", "cache_dir", "FILES", "DatasetIntegrityError",
]
