"""The floors of DESIGN.md hold: each module imports only from its own floor and the ones
below it (the backend and the kernels' loops at the bottom, tensor and autograd above them, ops
above those, then the functional API, then
nn/optim/data, then training and the model zoo, then vision/diagnosis/search, the lab and the
command line on top). A module that reaches upward fails here, naming the import."""
import ast
from pathlib import Path

import gradwise

ROOT = Path(gradwise.__file__).parent

FLOORS = {
    "backend": 0,
    "kernels": 1,                        # loops on plain arrays, below the Tensor
    "tensor": 2, "autograd": 2,          # the core: Tensor.backward() calls the engine
    "ops": 3,
    "functional": 4, "check": 4, "io": 4, "viz": 4,
    "nn": 5, "optim": 5, "data": 5, "datasets": 5,
    "train": 6, "models": 6, "onnx": 6,
    "vision": 7, "diagnose": 7, "search": 7,
    "lab": 8,
    "cli": 9, "__main__": 9,
}
# `from gradwise import name` for a name the package root re-exports (manual_seed, save, ...)
# costs what the root imports: the functional floor and below.
ROOT_FLOOR = FLOORS["functional"]


def _imports(path: Path):
    """(target parts relative to the package root, line) for every gradwise import in path."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = list(rel[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                if node.module:
                    yield base + node.module.split("."), node.lineno
                else:
                    for alias in node.names:
                        yield base + [alias.name], node.lineno
            elif node.module and node.module.split(".")[0] == "gradwise":
                parts = node.module.split(".")[1:]
                if parts:
                    yield parts, node.lineno
                else:
                    for alias in node.names:
                        yield [alias.name], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("gradwise."):
                    yield alias.name.split(".")[1:], node.lineno


def _floor(parts) -> int | None:
    if not parts:
        return ROOT_FLOOR
    return FLOORS.get(parts[0], ROOT_FLOOR)


def test_every_top_level_module_has_a_floor():
    tops = {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"}
    tops |= {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert tops <= set(FLOORS), f"give these a floor in this test: {sorted(tops - set(FLOORS))}"


def test_nothing_imports_from_a_floor_above_it():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("").parts
        if rel == ("__init__",):
            continue  # the package root re-exports the public API
        mine = FLOORS[rel[0]]
        for parts, line in _imports(path):
            theirs = _floor(parts)
            if theirs > mine:
                upward.append(f"{'/'.join(rel)}.py:{line} (floor {mine}) imports "
                              f"{'.'.join(parts)} (floor {theirs})")
    assert not upward, "imports reaching up a floor:\n" + "\n".join(upward)


def _module_of(parts) -> tuple | None:
    """The module file an import names: the longest prefix of parts that is a .py file or a
    package (`from gradwise.nn import Linear` is gradwise.nn's __init__)."""
    for n in range(len(parts), 0, -1):
        head = parts[:n]
        if ROOT.joinpath(*head).with_suffix(".py").exists() or ROOT.joinpath(*head, "__init__.py").exists():
            return tuple(head)
    return None


def _import_graph() -> dict:
    graph = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("").parts
        me = rel[:-1] if rel[-1] == "__init__" else rel
        if not me:
            continue  # the package root re-exports; it is imported, never imports back
        graph.setdefault(me, set())
        for parts, _ in _imports(path):
            target = _module_of(parts)
            if target and target != me:
                graph[me].add(target)
    return graph


def _cycles(graph: dict) -> list[set]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_but_tensor_and_autograd():
    """Modules import each other one way, also inside a floor and also from inside a function
    (a circle there still couples two modules that cannot be read apart). The one allowed
    circle: Tensor.backward() calls the engine, and the engine makes Tensors."""
    allowed = {("tensor",), ("autograd",)}
    circles = [c for c in _cycles(_import_graph()) if c != allowed]
    assert not circles, "import circles:\n" + "\n".join(
        " <-> ".join(".".join(m) for m in sorted(c)) for c in circles)
