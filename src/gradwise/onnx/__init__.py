"""ONNX: export a gradwise model for onnxruntime and other runtimes, and load an ONNX model as a
gradwise Module (needs the onnx package: pip install 'gradwise[onnx]').

    gradwise.onnx.export(model, example_input, "model.onnx")
    session = onnxruntime.InferenceSession("model.onnx")
    session.run(None, {"input": X})
    model = gradwise.onnx.load("model.onnx")      # a Module that runs the graph with gradwise ops
"""
from .export import CONVERTERS, DEFAULT_OPSET, export, to_model_proto
from .load import OnnxModel, load
from .nodes import IMPORTERS, Unsupported

__all__ = ["export", "to_model_proto", "load", "OnnxModel", "Unsupported", "CONVERTERS",
           "IMPORTERS", "DEFAULT_OPSET"]
