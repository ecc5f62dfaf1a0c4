"""Learning-rate schedules: the course's decay formulas and PyTorch's schedulers.

    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(...)
        sched.step()                # once per epoch, after the optimizer's steps

A scheduler is the one way gradwise changes the lr while training: fit(..., scheduler=sched)
steps it once per epoch after validation (ReduceLROnPlateau with the validation loss), and
checkpoints keep its state, so a resumed run continues the schedule. A function of the epoch
(Keras' LearningRateScheduler) is LambdaLR(opt, lambda epoch: factor); setting
`optimizer.lr` by hand lasts until the next step() of a closed-form schedule.

As in PyTorch, a scheduler sets each param group's lr when it is built (epoch 0: the base lr,
kept as group['initial_lr']) and again at every step(); `epoch` below is the number of
step() calls so far (last_epoch), counted from 0, and alpha0 is the base lr. get_last_lr()
gives the lrs last set, one per group.

Every schedule except ReduceLROnPlateau is computed in closed form from (alpha0, epoch)
(PyTorch mostly multiplies the current lr instead; the values agree to rounding), so a
scheduler restored with load_state_dict continues exactly where it stopped, and an lr set
by hand is overwritten at the next step().

    StepLR              alpha0 * gamma ^ floor(epoch / step_size)
    ExponentialLR       alpha0 * gamma ^ epoch            (the course's 0.95^epoch * alpha0)
    LambdaLR            alpha0 * lr_lambda(epoch)
    InverseTimeDecay    alpha0 / (1 + decay_rate * epoch)  (the course's 1/(1 + decay_rate *
                        epoch_num)); with time_interval, epoch -> floor(epoch / time_interval)
    InverseSqrtDecay    k / sqrt(epoch_num) * alpha0 with epoch_num = epoch + 1
    CosineAnnealingLR   eta_min + (alpha0 - eta_min) (1 + cos(pi epoch / T_max)) / 2
    ReduceLROnPlateau   lr * factor when a monitored value stops improving (step(metric))
"""
from __future__ import annotations

import math
import operator

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "LambdaLR", "InverseTimeDecay",
           "InverseSqrtDecay", "CosineAnnealingLR", "ReduceLROnPlateau"]


def _check_optimizer(obj, name):
    if not isinstance(obj, Optimizer):
        raise TypeError(f"{name}: expected a gradwise Optimizer, got {type(obj).__name__}")


class LRScheduler:
    """Base class: subclasses define lr_at(base_lr, epoch) (or _lrs(epoch) for per-group rules)."""

    _not_state = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer, type(self).__name__)
        self.optimizer = optimizer
        for i, g in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                g["initial_lr"] = g["lr"]
            elif "initial_lr" not in g:
                raise KeyError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} needs "
                               f"'initial_lr' in param group {i} (load the optimizer's state first)")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def _lrs(self, epoch: int) -> list[float]:
        return [self.lr_at(base, epoch) for base in self.base_lrs]

    def step(self) -> None:
        """Advance one epoch and set every group's lr."""
        self.last_epoch += 1
        for g, lr in zip(self.optimizer.param_groups, self._lrs(self.last_epoch)):
            if not math.isfinite(lr) or lr < 0:
                raise ValueError(f"{type(self).__name__}: the schedule gave lr {lr} at epoch "
                                 f"{self.last_epoch}")
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lr of each param group, as set by the last step()."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """The scheduler's class name ('class') and its attributes except the optimizer (and
        functions, for LambdaLR)."""
        return {"class": type(self).__name__,
                **{k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()
                   if k not in self._not_state}}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a state_dict() of the same scheduler class; a refused state changes nothing."""
        self._prepare_load(state_dict)()

    def _prepare_load(self, state_dict: dict):
        """Check state_dict without changing anything; return the function that loads it."""
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict, got "
                             f"{type(state_dict).__name__}")
        state = dict(state_dict)
        saved_class = state.pop("class", None)
        if saved_class is not None and saved_class != name:
            raise ValueError(f"{name}.load_state_dict: the state is a {saved_class}'s, this "
                             f"scheduler is a {name}")
        unknown = [k for k in state if k not in self.__dict__ or k in self._not_state]
        if unknown:
            raise KeyError(f"{name}.load_state_dict: unexpected keys {unknown}")
        missing = [k for k in self.__dict__ if k not in self._not_state and k not in state]
        if saved_class is None and missing:  # from before the class was stored: its keys tell
            raise ValueError(f"{name}.load_state_dict: the state lacks {missing}: it comes from "
                             f"another scheduler")
        values = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in state.items()}
        return lambda: self.__dict__.update(values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """alpha0 * gamma ^ floor(epoch / step_size): a drop by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if int(step_size) != step_size or step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """alpha0 * gamma ^ epoch (the course's exponential decay, e.g. 0.95^epoch_num * alpha0)."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class LambdaLR(LRScheduler):
    """alpha0 * lr_lambda(epoch); lr_lambda may be a list with one function per group.
    The functions are not part of state_dict (build the scheduler with them again)."""

    _not_state = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        _check_optimizer(optimizer, "LambdaLR")
        n = len(optimizer.param_groups)
        fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(fns) != n or not all(callable(f) for f in fns):
            raise ValueError(f"LambdaLR: expected a function or a list of {n} functions "
                             f"(one per param group)")
        self.lr_lambdas = fns
        super().__init__(optimizer, last_epoch)

    def _lrs(self, epoch):
        return [base * float(f(epoch)) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class InverseTimeDecay(LRScheduler):
    """The course's learning-rate decay: alpha0 / (1 + decay_rate * epoch).

    time_interval=None decays every epoch; time_interval=k keeps the lr fixed for k epochs
    at a time: alpha0 / (1 + decay_rate * floor(epoch / k)) (the course's schedule_lr_decay;
    Keras' InverseTimeDecay(staircase=True) with decay_steps=k). epoch counts from 0, as
    the course's code does, so the first epoch trains with alpha0.
    """

    def __init__(self, optimizer, decay_rate: float, time_interval: int | None = None,
                 last_epoch: int = -1):
        if decay_rate < 0:
            raise ValueError(f"InverseTimeDecay: decay_rate must be >= 0, got {decay_rate}")
        if time_interval is not None and (int(time_interval) != time_interval or time_interval <= 0):
            raise ValueError(f"InverseTimeDecay: time_interval must be a positive integer or "
                             f"None, got {time_interval!r}")
        self.decay_rate = float(decay_rate)
        self.time_interval = None if time_interval is None else int(time_interval)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        k = epoch if self.time_interval is None else epoch // self.time_interval
        return base_lr / (1.0 + self.decay_rate * k)


class InverseSqrtDecay(LRScheduler):
    """The course's k / sqrt(epoch_num) * alpha0, with epoch_num = epoch + 1 (the course
    counts epochs from 1, which also keeps the first step finite): the first epoch trains
    with k * alpha0, the fourth with k * alpha0 / 2."""

    def __init__(self, optimizer, k: float = 1.0, last_epoch: int = -1):
        if k <= 0:
            raise ValueError(f"InverseSqrtDecay: k must be > 0, got {k}")
        self.k = float(k)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return self.k / math.sqrt(epoch + 1) * base_lr


class CosineAnnealingLR(LRScheduler):
    """eta_min + (alpha0 - eta_min) (1 + cos(pi epoch / T_max)) / 2 (Loshchilov & Hutter's
    SGDR without restarts): from alpha0 down to eta_min over T_max epochs, then back up."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max}")
        self.T_max, self.eta_min = T_max, float(eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by `factor` when a monitored value has not improved for more than
    `patience` epochs (torch.optim.lr_scheduler.ReduceLROnPlateau): call step(metric) once
    per epoch, e.g. with the validation loss.

    mode 'min' (a loss) or 'max' (an accuracy); an improvement beats the best value by more
    than threshold, relative (best * (1 -/+ threshold), threshold_mode='rel') or absolute
    ('abs'). After a reduction, `cooldown` epochs pass before bad epochs count again; the lr
    never goes below min_lr (one value or one per group), and changes smaller than eps are
    skipped.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr=0.0, eps: float = 1e-8):
        _check_optimizer(optimizer, "ReduceLROnPlateau")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', "
                             f"got {threshold_mode!r}")
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(f"ReduceLROnPlateau: {len(min_lrs)} min_lr values for {n} param groups")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.min_lrs, self.eps = int(cooldown), [float(v) for v in min_lrs], eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def is_better(self, current: float, best: float) -> bool:
        t = self.threshold
        if self.mode == "min":
            bound = best * (1.0 - t) if self.threshold_mode == "rel" else best - t
            return operator.lt(current, bound)
        bound = best * (1.0 + t) if self.threshold_mode == "rel" else best + t
        return operator.gt(current, bound)

    def step(self, metric) -> None:
        current = float(metric.item() if hasattr(metric, "item") else metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(g["lr"] * self.factor, min_lr)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]
