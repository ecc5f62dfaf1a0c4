"""Each module registers its experiments with @experiment when imported; the import order is
the order of `gradwise lab list` (the course's order, then the book's)."""
from . import (  # noqa: F401  # noqa: F401  # noqa: F401  # noqa: F401
    book_batch_norm,
    book_cnn,
    book_hyperparameters,
    book_optimizers,
    book_overfitting,
    book_two_layer,
    book_weight_init,
    catvnoncat,
    dates,
    dinosaurs,
    ewa,
    gradcheck,
    initialization,
    optimization,
    perceptron,  # noqa: F401
    planar,
    regularization,
)
