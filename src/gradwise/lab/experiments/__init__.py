"""Each module registers its experiments with @experiment when imported; the import order is
the order of `gradwise lab list` (the course's order, then the book's)."""
from . import planar, catvnoncat, initialization, regularization, gradcheck  # noqa: F401
from . import optimization, ewa  # noqa: F401
from . import perceptron  # noqa: F401
from . import book_two_layer, book_optimizers, book_weight_init, book_batch_norm  # noqa: F401
from . import book_overfitting, book_hyperparameters, book_cnn  # noqa: F401
