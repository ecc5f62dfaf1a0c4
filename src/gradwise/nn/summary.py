"""Module.summary's table: each layer's output shape and parameter count, as Keras prints it,
and as an HTML table in a notebook.

input_shape excludes the batch axis (e.g. (784,) or (1, 28, 28)); a batch of one zero example
is passed through the model in eval mode, without recording a graph, so a shape mismatch shows
up here with the layer that refused it. Parameters only are counted (buffers such as running
statistics are not, as in PyTorch); frozen ones are the non-trainable params.
"""
from __future__ import annotations

import html

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..tensor import Tensor


class Summary(str):
    """The table as text (print it, compare it), with rows = [(name, type, output shape,
    params)], total and trainable; a notebook shows it as an HTML table."""

    rows: list
    total: int
    trainable: int

    def _repr_html_(self) -> str:
        cells = "".join(f"<tr><td>{html.escape(name)} ({html.escape(kind)})</td><td>{html.escape(str(shape))}"
                        f"</td><td style='text-align:right'>{n:,}</td></tr>" for name, kind, shape, n in self.rows)
        return (f"<table><caption>{html.escape(self.splitlines()[0])}</caption>"
                "<thead><tr><th>Layer (type)</th><th>Output Shape</th><th>Param #</th></tr></thead>"
                f"<tbody>{cells}</tbody></table>"
                f"<p>Total params: {self.total:,}<br>Trainable params: {self.trainable:,}<br>"
                f"Non-trainable params: {self.total - self.trainable:,}</p>")


def _rows(model, input_shape, dtype) -> list:
    """(name, type, output shape, own parameter count) of each layer, in the order they run."""
    rows, handles = [], []
    for name, m in model.named_modules():
        # a row per leaf layer, and per container that owns parameters of its own
        if list(m.children()) and not any(True for _ in m.parameters(recurse=False)):
            continue

        def hook(mod, _inputs, out, name=name):
            shape = out.shape if isinstance(out, Tensor) else "?"
            rows.append((name or type(mod).__name__, type(mod).__name__,
                         "(None, " + ", ".join(map(str, shape[1:])) + ")" if shape != "?" else shape,
                         sum(p.size for p in mod.parameters(recurse=False))))

        handles.append(m.register_forward_hook(hook))
    try:
        x = Tensor(np.zeros((1, *tuple(input_shape)), dtype=dtype or backend.get_default_dtype()))
        with model.evaluating(), no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return rows


def summarize(model, input_shape, dtype=None) -> Summary:
    rows = _rows(model, input_shape, dtype)
    total = model.num_parameters()
    trainable = model.num_parameters(trainable_only=True)
    w = max([len(f"{r[0]} ({r[1]})") for r in rows] + [20])
    line = "-" * (w + 40)
    out = [f"{type(model).__name__} summary", line,
           f"{'Layer (type)':<{w}}  {'Output Shape':<24}{'Param #':>12}", "=" * (w + 40)]
    for name, kind, shape, n in rows:
        out.append(f"{f'{name} ({kind})':<{w}}  {str(shape):<24}{n:>12,}")
    out += ["=" * (w + 40), f"Total params: {total:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}", line]
    table = Summary("\n".join(out))
    table.rows, table.total, table.trainable = rows, total, trainable
    return table
