"""Optimizers, learning-rate schedules, gradient clipping and averaging.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    ...
    opt.zero_grad(); loss.backward(); optim.clip_grad_norm_(model.parameters(), 1.0); opt.step()

Momentum comes in two forms: SGD(momentum=...) is PyTorch's v = mu v + g, Momentum(beta=...)
the course's v = beta v + (1 - beta) dW (see optim/sgd.py).
"""
from . import lr_scheduler
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_
from .ewa import ExponentiallyWeightedAverage, ewa
from .optimizer import Optimizer
from .regularization import l1_penalty, l2_penalty
from .sgd import SGD, Momentum

__all__ = ["Optimizer", "SGD", "Momentum", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler",
           "clip_grad_norm_", "clip_grad_value_", "ExponentiallyWeightedAverage", "ewa",
           "l2_penalty", "l1_penalty"]
