"""gradwise.viz: the DOT text parsed back with pydot, nodes and edges counted; rendering with
Graphviz where it is installed, and the DOT text written (with a warning) where it is not."""
import shutil

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, viz

pydot = pytest.importorskip("pydot")


def _parse(graph: viz.DotGraph):
    (g,) = pydot.graph_from_dot_data(graph.source)
    nodes = {n.get_name(): n.get_label().strip('"') for n in g.get_nodes() if n.get_name() != "node"}
    edges = [(e.get_source(), e.get_destination()) for e in g.get_edges()]
    return nodes, edges


def _ops(nodes):
    return sorted(label for name, label in nodes.items() if name.startswith("f"))


def test_a_shared_tensor_is_drawn_once_with_an_edge_to_each_use():
    x = gw.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x + x).sum()
    nodes, edges = _parse(viz.to_dot(y, params={"x": x}))
    assert _ops(nodes) == ["Add", "Mul", "Sum"]
    x_node = next(n for n, label in nodes.items() if label.startswith("x\\n"))
    assert len([b for a, b in edges if a == x_node]) == 3   # Mul twice, Add once
    assert len([n for n in nodes if n.startswith("t")]) == 4            # x, x*x, x*x+x, y


def test_a_model_graph_names_its_parameters_and_shows_shapes():
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 2))
    graph = m.plot((1, 8, 8))
    nodes, edges = _parse(graph)
    assert _ops(nodes) == ["Conv2d", "Linear", "MaxPool2d", "ReLU", "Reshape"]
    labels = set(nodes.values())
    assert {"0.W\\n(2, 1, 3, 3) float32", "0.b\\n(2,) float32", "4.W\\n(2, 18) float32",
            "input\\n(1, 1, 8, 8) float32", "(1, 2) float32"} <= labels
    assert len(edges) == 5 + 4 + 3 + 2       # every op: its inputs and its output
    assert m.training                          # the modes are left as they were


def test_the_backward_graph_ends_at_the_leaves_that_get_gradients():
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    loss = F.cross_entropy(m(gw.randn(5, 3)), gw.tensor(np.array([0, 1, 0, 1, 1])))
    nodes, edges = _parse(viz.to_dot(loss, params=dict(m.named_parameters()), backward=True))
    assert _ops(nodes) == ["CrossEntropyBackward", "LinearBackward", "LinearBackward", "TanhBackward"]
    grads = sorted(label.split("\\n")[0] for n, label in nodes.items() if n.startswith("t"))
    assert grads == ["0.W.grad", "0.b.grad", "2.W.grad", "2.b.grad"]   # not the input's
    assert len(edges) == 3 + 4                 # op to op along the chain, op to each leaf


def test_saving_dot_text_and_a_picture(tmp_path):
    x = gw.tensor([1.0], requires_grad=True)
    graph = viz.to_dot((x * 2).sum())
    assert graph.save(tmp_path / "g.dot").read_text() == graph.source
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (apt install graphviz)")
    assert graph.save(tmp_path / "g.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert graph.save(tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in graph._repr_svg_()


def test_without_graphviz_the_dot_text_is_written_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    graph = viz.to_dot((gw.tensor([1.0], requires_grad=True) * 2).sum())
    with pytest.warns(UserWarning, match="apt install graphviz"):
        path = graph.save(tmp_path / "g.svg")
    assert path == tmp_path / "g.dot" and path.read_text() == graph.source
    assert graph._repr_svg_() is None


def test_bad_arguments_name_the_problem(tmp_path):
    with pytest.raises(TypeError, match="to_dot: expected the Tensor"):
        viz.to_dot(np.zeros(2))
    with pytest.raises(ValueError, match="'g.gif'"):
        viz.to_dot(gw.tensor([1.0])).save(tmp_path / "g.gif")
