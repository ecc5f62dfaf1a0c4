"""Drawing the computational graph: gradwise.viz.to_dot(tensor) and Module.plot().

    y = model(x)
    g = gw.viz.to_dot(y, params=dict(model.named_parameters()))
    g.save("graph.svg")        # rendered by Graphviz's `dot`; "graph.dot" needs no Graphviz
    g                          # in a notebook: the picture

The forward graph has a node per tensor (its name when it is a named parameter, its shape and
dtype) and a node per op, with edges in the direction the values flow: inputs -> op -> output.
A tensor used by several ops is drawn once, with an edge to each. backward=True draws the graph
backward() walks instead: one node per op's backward, edges in the direction the gradients
flow, from the loss down to the leaves that accumulate a .grad.

Draw before calling backward(): backward frees each op's saved inputs once it has used them,
and a freed op no longer knows its inputs (it is drawn as a dead end).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np

from .autograd import enable_grad
from .backend import get_default_dtype
from .io import atomic_write
from .tensor import Tensor

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


class DotGraph:
    """A graph as DOT text (`source`); saved as .dot, or rendered by Graphviz to .svg/.png/.pdf."""

    def __init__(self, source: str):
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"DotGraph({self.source.count(' [label=')} nodes; .source for the DOT text)"

    def save(self, path) -> Path:
        """Write the graph to path: DOT text for .dot, else a picture in the suffix's format.
        Without Graphviz installed, a picture cannot be made: the DOT text is written beside
        it (same name, .dot) with a warning that says how to install it."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".dot":
            return atomic_write(path, lambda f: f.write(self.source.encode()), who="DotGraph.save")
        if suffix not in FORMATS:
            raise ValueError(f"DotGraph.save: write .dot, {', '.join(FORMATS)}; got '{path.name}'")
        if shutil.which("dot") is None:
            warnings.warn("DotGraph.save: Graphviz's `dot` is not installed (Debian: apt install "
                          "graphviz; conda: conda install graphviz), so the DOT text was written "
                          f"to {path.with_suffix('.dot').name} instead of {path.name}", stacklevel=2)
            return self.save(path.with_suffix(".dot"))
        picture = render(self.source, FORMATS[suffix])
        return atomic_write(path, lambda f: f.write(picture), who="DotGraph.save")

    def _repr_svg_(self):
        """The picture in a notebook (None without Graphviz: the notebook shows repr)."""
        if shutil.which("dot") is None:
            return None
        return render(self.source, "svg").decode()


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (where output cells show HTML and pictures)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def render(source: str, fmt: str) -> bytes:
    """Graphviz's `dot -T{fmt}` of the DOT text."""
    done = subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True,
                          timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _quote(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, line breaks as DOT's \\n."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _describe(t: Tensor, names: dict) -> str:
    shape = "(" + ", ".join(map(str, t.shape)) + ("," if len(t.shape) == 1 else "") + ")"
    head = names.get(id(t))
    if head is None:
        head = "input" if t.creator is None else ""
    return "\n".join(x for x in (head, f"{shape} {t.dtype}") if x)


def _walk(root: Tensor):
    """(tensors, ops, edges) of the graph that made root: each tensor and op once, by id;
    edges (from id, to id) for input -> op and op -> output."""
    tensors, ops, edges = {id(root): root}, {}, []
    stack = [root]
    while stack:
        t = stack.pop()
        f = t.creator
        if f is None:
            continue
        if id(f) not in ops:
            ops[id(f)] = f
            for x in f.inputs or ():
                edges.append((id(x), id(f)))
                if id(x) not in tensors:
                    tensors[id(x)] = x
                    stack.append(x)
        edges.append((id(f), id(t)))
    return tensors, ops, edges


def to_dot(root: Tensor, params: dict | None = None, backward: bool = False,
           title: str | None = None) -> DotGraph:
    """The graph that computed `root`, as a DotGraph. params: {name: tensor} labels the
    tensors that are parameters (e.g. dict(model.named_parameters())); backward=True draws
    the gradients' path instead (see the module docstring)."""
    if not isinstance(root, Tensor):
        raise TypeError(f"to_dot: expected the Tensor an op returned, got {type(root).__name__}")
    names = {id(p): name for name, p in (params or {}).items()}
    tensors, ops, edges = _walk(root)
    node = {i: f"t{k}" for k, i in enumerate(tensors)} | {i: f"f{k}" for k, i in enumerate(ops)}
    lines = ["digraph gradwise {", f"  rankdir={'BT' if backward else 'TB'};",
             '  node [fontname="Helvetica", fontsize=10];']
    if title:
        lines.append(f"  label={_quote(title)}; labelloc=t;")
    if backward:
        lines += _backward_lines(tensors, ops, edges, names, node)
    else:
        for i, t in tensors.items():
            fill = "lightblue" if i in names else ("lightgrey" if t.creator is None else "white")
            lines.append(f"  {node[i]} [label={_quote(_describe(t, names))}, shape=box, "
                         f"style=filled, fillcolor={fill}];")
        lines += [f"  {node[i]} [label={_quote(type(f).__name__)}, shape=ellipse];"
                  for i, f in ops.items()]
        lines += [f"  {node[a]} -> {node[b]};" for a, b in edges]
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")


def _backward_lines(tensors, ops, edges, names, node) -> list[str]:
    """One node per op's backward and per leaf that gets a .grad; each op's backward sends
    gradients to the backward of each input's creator, or to the leaf."""
    lines = [f"  {node[i]} [label={_quote(type(f).__name__ + 'Backward')}, shape=ellipse];"
             for i, f in ops.items()]
    for i, t in tensors.items():
        if t.creator is None and t.requires_grad:
            label = f"{names.get(i, 'leaf')}.grad\n" + _describe(t, {}).split("\n")[-1]
            lines.append(f"  {node[i]} [label={_quote(label)}, shape=box, style=filled, "
                         f"fillcolor=lightblue];")
    for x, f in edges:
        if f in ops and x in tensors:
            t = tensors[x]
            if t.creator is not None:
                lines.append(f"  {node[f]} -> {node[id(t.creator)]};")
            elif t.requires_grad:
                lines.append(f"  {node[f]} -> {node[x]};")
    return lines


def model_graph(model, input_shape, dtype=None, backward: bool = False) -> DotGraph:
    """Run model on zeros of shape (1, *input_shape) with gradients on and draw the graph,
    parameters named as in model.named_parameters(). The model's modes are left as they were."""
    x = Tensor(np.zeros((1, *tuple(input_shape)), dtype=dtype or get_default_dtype()))
    with enable_grad():
        out = model(x)
    return to_dot(out, params=dict(model.named_parameters()), backward=backward,
                  title=type(model).__name__)
