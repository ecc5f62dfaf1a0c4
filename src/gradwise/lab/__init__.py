"""The lab: experiments that reproduce the course's and the book's published results.

    gradwise lab list                  what there is, and the data each experiment needs
    gradwise lab run planar            train, compare with the published numbers, plot
    gradwise lab run --all --quick     every experiment at the size the tests use
    gradwise lab report                the Markdown table of results

Each experiment is a function of a Run (see core.py) in experiments/, written on the public
API; course.py holds what the course experiments share (the notebooks' seeded draws, the
full-batch loop, the cost as the notebooks print it), book.py what the book's MNIST
experiments share (its MultiLayerNet, weight scales, dropout and weight decay, the loops that
train networks side by side on the same batches), mnist.py the CNN recipes on MNIST and
transfer learning (`gradwise lab recipe NAME`), plots.py the figures.
"""
from . import experiments  # noqa: F401  (registers every experiment)
from .core import REGISTRY, Check, Experiment, Result, Run, experiment
from .report import collect, markdown

__all__ = ["REGISTRY", "Check", "Experiment", "Result", "Run", "experiment", "collect", "markdown"]
