"""Hyperparameter search, the course's two ways (Improving Deep Neural Networks, week 3).

    from gradwise.search import LogUniform, OneMinusLogUniform, IntUniform, Choice
    from gradwise.search import random_search, coarse_to_fine, babysit, objective

    space = {"lr": LogUniform(1e-4, 1), "beta1": OneMinusLogUniform(0.8, 0.999),
             "hidden": IntUniform(8, 64), "dataset": "moons", "epochs": 30}
    result = random_search(objective, space, n_trials=20, seed=0)   # caviar: many models at once
    print(result.table()); result.plot("search.png"); result.save_best("best.json")
    # then: gradwise train best.json

- Caviar (many models in parallel): random_search / coarse_to_fine on a local process pool,
  or on Ray (executor='ray'), the same trials for the same seed.
- Panda (babysit one model): babysit() checkpoints every epoch, rolls back divergence with a
  smaller learning rate and takes new learning rates from a control file while it trains.
- Spaces: random draws, never a grid; learning rates log-uniform 10^U(a, b), betas through
  1 - beta = 10^U(a, b); uniform, integer and choice spaces.
- recipe: the flat configuration of an MLP training run (dataset, layers, optimizer, ...)
  that `gradwise train CONFIG` runs and `objective` scores.
"""
from .panda import BabysitResult, babysit
from .recipe import (
    DATASETS,
    DEFAULTS,
    METRICS,
    TrainedRun,
    build_model,
    build_optimizer,
    check_config,
    load_data,
    load_run,
    objective,
    save_run,
    train_config,
)
from .search import EXECUTORS, SearchResult, Trial, coarse_to_fine, random_search, trial_plan
from .space import (
    Choice,
    Distribution,
    IntUniform,
    LogUniform,
    OneMinusLogUniform,
    Uniform,
    describe,
    sample,
    space_from_dict,
    space_to_dict,
    zoom_space,
)

__all__ = [
    "random_search", "coarse_to_fine", "SearchResult", "Trial", "trial_plan", "EXECUTORS",
    "Distribution", "Uniform", "IntUniform", "LogUniform", "OneMinusLogUniform", "Choice",
    "sample", "zoom_space", "space_to_dict", "space_from_dict", "describe",
    "babysit", "BabysitResult",
    "objective", "train_config", "TrainedRun", "load_data", "build_model", "build_optimizer",
    "check_config", "save_run", "load_run", "DEFAULTS", "DATASETS", "METRICS",
]
