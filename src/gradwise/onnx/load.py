"""Load an ONNX model as a gradwise Module whose forward pass runs the graph with gradwise ops.

    model = gradwise.onnx.load("model.onnx")
    Y = model(gw.tensor(X))          # differentiable: fine-tune it like any Module

Floating-point initializers become Parameters (named as in the file, with characters other
than letters, digits and _ replaced by _), other initializers constants. Each node runs as
gradwise ops (IMPORTERS, by op type): a grouped convolution runs as one convolution per group,
LRN as squares summed over shifted channel slices, so every piece has its gradient. Nodes are
read with the semantics of the model's opset (e.g. Unsqueeze's axes as an attribute before
opset 13, as an input after). An op or an attribute gradwise does not run raises
NotImplementedError naming the node when the model is loaded or the node is reached.
"""
from __future__ import annotations

import re

import numpy as np

from ..nn import Module, Parameter
from ..tensor import Tensor
from .export import _onnx
from .nodes import IMPORTERS, Unsupported, _const


def _attributes(node) -> dict:
    onnx, helper, _ = _onnx()
    out = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        out[attr.name] = value.decode() if isinstance(value, bytes) else value
    return out


class OnnxModel(Module):
    """An ONNX graph as a Module: call it with the graph's inputs (arrays or Tensors, in the
    graph's order); it returns the output, or a tuple for several."""

    def __init__(self, proto):
        super().__init__()
        graph = proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 1)
        unsupported = sorted({n.op_type for n in graph.node if n.op_type not in IMPORTERS or n.domain
                              not in ("", "ai.onnx")})
        if unsupported:
            raise Unsupported(f"onnx.load: gradwise does not run the op(s) {', '.join(unsupported)} "
                              f"(it runs {', '.join(sorted(IMPORTERS))})")
        _, _, numpy_helper = _onnx()
        self._params, self._constants, taken = {}, {}, set()
        for init in graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype.kind == "f":
                attr = _attribute_name(init.name, taken)
                self.register_parameter(attr, Parameter(arr.copy()))
                self._params[init.name] = attr
            else:
                self._constants[init.name] = arr
        # old files list initializers, and even node outputs, among the graph's inputs too
        known = set(self._params) | set(self._constants) | {o for n in graph.node for o in n.output}
        self.input_names = [i.name for i in graph.input if i.name not in known]
        self.output_names = [o.name for o in graph.output]
        self._nodes = [(n.op_type, list(n.input), list(n.output), _attributes(n) | {"_outputs": len(n.output)},
                        n.name) for n in graph.node]

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise ValueError(f"OnnxModel: the graph takes {len(self.input_names)} input(s) "
                             f"{self.input_names}, got {len(inputs)}")
        env = {k: _const(v) for k, v in self._constants.items()}
        env |= {name: getattr(self, attr) for name, attr in self._params.items()}
        env |= {n: x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for n, x in zip(self.input_names, inputs)}
        for op, ins, outs, attrs, name in self._nodes:
            args = [env[i] if i else None for i in ins]
            try:
                results = IMPORTERS[op](args, attrs, self.opset)
            except Unsupported as e:
                raise Unsupported(f"onnx node {name or op!r}: {e}") from None
            for k, o in enumerate(outs):
                if o and k >= len(results):
                    raise Unsupported(f"onnx node {name or op!r}: {op}'s output {k} ({o!r})")
                if o:
                    env[o] = results[k]
        results = [env[o] for o in self.output_names]
        return results[0] if len(results) == 1 else tuple(results)


def _attribute_name(name: str, taken: set) -> str:
    base = re.sub(r"\W", "_", name)
    if not base or base[0].isdigit() or hasattr(Module, base):
        base = "p_" + base
    attr, k = base, 1
    while attr in taken:
        attr, k = f"{base}_{k}", k + 1
    taken.add(attr)
    return attr


def load(path_or_proto) -> OnnxModel:
    """An ONNX file (or ModelProto) as a gradwise OnnxModel."""
    onnx, _, _ = _onnx()
    proto = path_or_proto if isinstance(path_or_proto, onnx.ModelProto) else onnx.load(str(path_or_proto))
    return OnnxModel(proto)
