"""gradwise.onnx: models exported, checked by onnx.checker (full_check) and run in onnxruntime
against gradwise's own outputs; the importer run on the node tests, the PyTorch-converted test
models and the weight-free model graphs that the onnx wheel ships with their expected outputs,
and on gradwise's own exports."""
import glob
import os
import re
import warnings

import numpy as np
import pytest

import gradwise as gw
import gradwise.functional as F
from gradwise import nn, optim

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
gonnx = pytest.importorskip("gradwise.onnx")
from onnx import numpy_helper  # noqa: E402

from gradwise.models import convnets, inception, resnet  # noqa: E402

DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")


def _mlp():
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Dropout(0.3), nn.Linear(100, 100),
                         nn.BatchNorm1d(100), nn.Tanh(), nn.Linear(100, 10), nn.LogSoftmax())


class _Residual(nn.Module):
    """x + f(x) written in forward, as a user writes a skip connection."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Sigmoid())

    def forward(self, X):
        return X + self.f(X) * 0.5


class _Sequence(nn.Module):
    """A recurrent layer read at its last step, as a sequence classifier is written."""

    def __init__(self, kind, **options):
        super().__init__()
        self.rnn = getattr(nn, kind)(5, 7, batch_first=True, **options)
        self.head = nn.Linear(7 * (2 if options.get("bidirectional") else 1), 3)

    def forward(self, X):
        out, _ = self.rnn(X)
        return self.head(out[:, -1])


MODELS = {   # name: (constructor, one example's shape)
    "mlp": (_mlp, (784,)),
    "lenet5": (lambda: convnets.LeNet5(), (1, 32, 32)),
    "simple_convnet": (lambda: convnets.SimpleConvNet(), (1, 28, 28)),
    "basic_block_stride2": (lambda: resnet.BasicBlock(8, 16, 2), (8, 16, 16)),
    "identity_block": (lambda: resnet.IdentityBlock(8, (4, 4, 8)), (8, 6, 6)),
    "convolutional_block": (lambda: resnet.ConvolutionalBlock(8, (4, 4, 16)), (8, 6, 6)),
    "resnet18_32x32": (lambda: resnet.resnet18(num_classes=10), (3, 32, 32)),
    "small_googlenet": (lambda: inception.SmallGoogLeNet(), (1, 28, 28)),
    "pads_and_averages": (lambda: nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(1, 2, 3, stride=2),
                                                nn.LeakyReLU(0.1), nn.AvgPool2d(2),
                                                nn.AdaptiveAvgPool2d(), nn.Flatten(),
                                                nn.Softmax()), (1, 11, 11)),
    "residual_in_forward": (_Residual, (4, 5, 5)),
    "lstm_two_layers_bidirectional": (lambda: _Sequence("LSTM", num_layers=2, bidirectional=True), (6, 5)),
    "gru": (lambda: _Sequence("GRU"), (6, 5)),
    "rnn_relu_without_bias": (lambda: _Sequence("RNN", nonlinearity="relu", bias=False), (6, 5)),
    "transformer_encoder_layer": (lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16,
                                                                     batch_first=True), (5, 8)),
    "layer_norm": (lambda: nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.ReLU(),
                                         nn.LayerNorm(8, elementwise_affine=False)), (6,)),
}


def _trained_a_little(model, shape):
    """Batch norm statistics away from 0 and 1, so that eval mode matters."""
    X = gw.randn(8, *shape)
    with gw.no_grad():
        model(X)
    return model


@pytest.mark.parametrize("name", list(MODELS))
def test_exported_models_run_in_onnxruntime_as_in_gradwise(name, tmp_path):
    make, shape = MODELS[name]
    gw.manual_seed(0)
    model = _trained_a_little(make(), shape)
    X = np.random.default_rng(1).standard_normal((3, *shape)).astype(np.float32)
    path = tmp_path / f"{name}.onnx"
    gonnx.export(model, X[:1], path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (theirs,) = session.run(None, {"input": X})                 # batch 3 from a batch-1 trace
    assert model.training                                       # the model's mode is kept
    with model.evaluating(), gw.no_grad():
        ours = model(gw.tensor(X)).data
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("opset", [13, 17, onnx.defs.onnx_opset_version()])
def test_reductions_follow_the_opset(opset, tmp_path):
    class Stats(nn.Module):
        def forward(self, X):
            return gw.cat([X.mean(axis=1, keepdims=True), X.max(axis=1, keepdims=True),
                           X.sum(axis=1, keepdims=True), X.min(axis=1, keepdims=True)], axis=1)

    X = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    gonnx.export(Stats(), X, tmp_path / "s.onnx", opset=opset)
    (theirs,) = ort.InferenceSession(str(tmp_path / "s.onnx")).run(None, {"input": X})
    np.testing.assert_allclose(theirs, np.stack([X.mean(1), X.max(1), X.sum(1), X.min(1)], 1), rtol=1e-6)


def test_export_errors_name_the_problem(tmp_path):
    class Indexes(nn.Module):
        def forward(self, X):
            return X[:, [0, 2]]

    with pytest.raises(NotImplementedError, match="indexing with arrays"):
        gonnx.export(Indexes(), np.zeros((1, 4), np.float32), tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="opset must be in 13"):
        gonnx.export(_mlp(), np.zeros((1, 784), np.float32), tmp_path / "x.onnx", opset=7)
    assert not (tmp_path / "x.onnx").exists()


class _Slices(nn.Module):
    """Basic indexing in forward: steps, negative ints and steps, ..., None."""

    def forward(self, X):
        return gw.cat([X[:, 1:5:2].reshape(X.shape[0], -1), X[..., -1].reshape(X.shape[0], -1),
                       X[:, ::-2, 0], X[:, None, 0, 1:3].reshape(X.shape[0], -1)], axis=1)


class _Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8, padding_idx=0)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(5 * 8, 3))

    def forward(self, ids):
        return self.head(self.embed(ids))


@pytest.mark.parametrize("make, example", [
    (_Slices, np.random.default_rng(3).standard_normal((3, 6, 4)).astype(np.float32)),
    (_Tokens, np.random.default_rng(4).integers(0, 20, size=(3, 5))),
], ids=["slices", "embedding"])
def test_indexing_and_embeddings_export(make, example, tmp_path):
    gw.manual_seed(0)
    model = make()
    gonnx.export(model, example[:1], tmp_path / "m.onnx")
    (theirs,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": example})
    with gw.no_grad():
        ours = model(gw.tensor(example)).data
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-6)


# ---- the importer ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mlp", "lenet5", "resnet18_32x32", "small_googlenet",
                                  "lstm_two_layers_bidirectional", "transformer_encoder_layer"])
def test_our_exports_load_back_and_train(name, tmp_path):
    make, shape = MODELS[name]
    gw.manual_seed(0)
    model = _trained_a_little(make(), shape)
    X = np.random.default_rng(2).standard_normal((4, *shape)).astype(np.float32)
    gonnx.export(model, X[:1], tmp_path / "m.onnx")
    loaded = gonnx.load(tmp_path / "m.onnx")
    with model.evaluating(), gw.no_grad():
        np.testing.assert_allclose(loaded(X).data, model(gw.tensor(X)).data, rtol=1e-5, atol=1e-5)
    # the loaded graph is a Module of gradwise ops: it has gradients and trains
    opt = optim.SGD(loaded.parameters(), lr=0.01)
    out = loaded(X).reshape(4, -1)
    y = gw.tensor(np.arange(4) % out.shape[1])
    loss = F.nll_loss(out, y) if name == "mlp" else F.cross_entropy(out, y)
    loss.backward()
    assert all(p.grad is not None for p in loaded.parameters() if p.ndim > 1)
    opt.step()


# Node tests that gradwise cannot run, each for a stated reason; loading or running them must
# raise gradwise.onnx.Unsupported (never a wrong answer or a NumPy traceback).
NOT_RUN = {
    "1-D and 3-D convolution and pooling (gradwise has 2-D ones)": lambda name: bool(
        re.search(r"(pool|Pool|conv|Conv).*[13][dD]|operator_maxpool", name))
    and not name.startswith("test_AvgPool1d"),   # PyTorch exported these as 2-D pooling
    "dilated pooling": lambda name: "pool_2d_dilations" in name or "stride_padding_dilation" in name,
    "pads that copy the edge or reflect": lambda name: any(
        k in name for k in ("edge_pad", "reflect_pad", "wrap_pad", "ReflectionPad", "ReplicationPad",
                            "operator_pad")),
    "training-mode dropout and batch norm": lambda name: "training" in name,
    "max pooling's arg-max output": lambda name: "maxpool_with_argmax" in name,
}


def _reason(name):
    return next((why for why, matches in NOT_RUN.items() if matches(name)), None)


def _as_array(value):
    return numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) else np.asarray(value)


def _node_cases():
    from onnx.backend.test.case import node

    with warnings.catch_warnings():   # onnx's generators overflow casts on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        cases = node.collect_testcases(None)
    for case in cases:
        if case.kind != "node" or case.model is None:
            continue
        if any(n.op_type not in gonnx.IMPORTERS or n.domain not in ("", "ai.onnx") for n in case.model.graph.node):
            continue  # an op outside gradwise's set: load() refuses it up front (tested below)
        for inputs, outputs in case.data_sets:
            inputs, outputs = [_as_array(v) for v in inputs], [_as_array(v) for v in outputs]
            if all(v.dtype.type.__module__ == "numpy" for v in inputs + outputs):  # not bfloat16, float8, int4
                yield case, inputs, outputs


def _close(got, expected, rtol, atol):
    got = got if isinstance(got, tuple) else (got,)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, g.dtype, e.shape, e.dtype)
        np.testing.assert_allclose(g.data, e, rtol=rtol, atol=atol, equal_nan=True)


def test_the_node_tests_of_every_op_gradwise_imports():
    ran, refused, ops = 0, 0, set()
    for case, inputs, outputs in _node_cases():
        why = _reason(case.name)
        if why:
            with pytest.raises(gonnx.Unsupported):
                gonnx.load(case.model)(*inputs)
            refused += 1
            continue
        with gw.no_grad(), np.errstate(all="ignore"):   # some cases take log(0), sqrt(-1)
            got = gonnx.load(case.model)(*inputs)
        try:
            _close(got, outputs, case.rtol, case.atol)
        except AssertionError as e:
            raise AssertionError(f"{case.name}: {e}") from None
        ran += 1
        ops |= {n.op_type for n in case.model.graph.node}
    assert ran >= 400 and refused <= 30, (ran, refused)
    assert ops >= set(gonnx.IMPORTERS) - {"ConstantOfShape"}, set(gonnx.IMPORTERS) - ops


def test_an_op_outside_the_set_is_refused_when_loading():
    model = onnx.load(os.path.join(DATA, "pytorch-converted", "test_ELU", "model.onnx"))
    with pytest.raises(gonnx.Unsupported, match="Elu"):
        gonnx.load(model)


def _read(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def _model_dirs():
    for sub in ("pytorch-converted", "pytorch-operator"):
        for folder in sorted(glob.glob(os.path.join(DATA, sub, "*", ""))):
            model = onnx.load(os.path.join(folder, "model.onnx"))
            if all(n.op_type in gonnx.IMPORTERS for n in model.graph.node):
                yield os.path.basename(folder.rstrip(os.sep)), folder, model


def test_the_pytorch_converted_test_models():
    ran = 0
    for name, folder, model in _model_dirs():
        loaded = gonnx.load(model)
        for data in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
            inputs = [_read(p) for p in sorted(glob.glob(os.path.join(data, "input_*.pb")))]
            outputs = [_read(p) for p in sorted(glob.glob(os.path.join(data, "output_*.pb")))]
            if _reason(name):
                with pytest.raises(gonnx.Unsupported):
                    loaded(*inputs)
                continue
            with gw.no_grad(), np.errstate(all="ignore"):
                got = loaded(*inputs)
            try:
                _close(got, outputs, rtol=1e-3, atol=1e-5)
            except AssertionError as e:
                raise AssertionError(f"{name}: {e}") from None
            ran += 1
    assert ran >= 60, ran


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(DATA, "light", "*.onnx"))),
                         ids=lambda p: os.path.basename(p)[:-5])
def test_the_weight_free_model_graphs(path):
    """AlexNet, DenseNet-121, Inception v1/v2, ResNet-50, ShuffleNet (grouped convolutions),
    SqueezeNet, VGG-19, ZFNet: weights made by ConstantOfShape, the input arange(n) / n, as
    onnx's backend runner feeds them."""
    model = gonnx.load(path)
    info = next(i for i in onnx.load(path).graph.input if i.name == model.input_names[0])
    shape = [d.dim_value for d in info.type.tensor_type.shape.dim]
    n = int(np.prod(shape))
    X = (np.arange(n).reshape(shape) / n).astype(np.float32)
    expected = _read(path[:-5] + "_output_0.pb")
    with gw.no_grad():
        got = model(X)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.data, expected, rtol=1e-4, atol=1e-6)
