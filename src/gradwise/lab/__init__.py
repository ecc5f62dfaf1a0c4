"""The lab: experiments that reproduce the course's and the book's published results.

    gradwise lab list
    gradwise lab run planar --quick
    gradwise lab report
"""
from . import experiments  # noqa: F401  (registers every experiment)
from .core import REGISTRY, Check, Experiment, Result, Run, experiment
from .report import collect, markdown

__all__ = ["REGISTRY", "Check", "Experiment", "Result", "Run", "experiment", "collect", "markdown"]
