"""gradwise's own safetensors reader and writer, checked against the `safetensors` package and
a PyTorch model loading the same file; the torch <-> gradwise name converters."""
import json
import struct

import numpy as np
import pytest

import gradwise as gw
from gradwise import nn, optim

safetensors_numpy = pytest.importorskip("safetensors.numpy")
torch = pytest.importorskip("torch")


def _arrays():
    rng = np.random.default_rng(0)
    return {"w": rng.standard_normal((3, 4)).astype(np.float32),
            "b64": rng.standard_normal(5),
            "steps": np.array(7, dtype=np.int64),
            "mask": np.array([True, False, True]),
            "half": np.arange(6, dtype=np.float16).reshape(2, 3),
            "empty": np.zeros((0, 3), dtype=np.float32),
            "view": np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]}


def test_round_trip_every_dtype_and_shape(tmp_path):
    path = tmp_path / "a.safetensors"
    gw.save(_arrays(), path, metadata={"format": "pt", "epoch": "3"})
    back, meta = gw.io.load_safetensors(path, with_metadata=True)
    assert meta == {"format": "pt", "epoch": "3"}
    for name, a in _arrays().items():
        assert back[name].dtype == a.dtype and back[name].shape == a.shape
        np.testing.assert_array_equal(back[name], a)
    assert gw.load(path).keys() == back.keys()


def test_the_safetensors_package_reads_ours_and_we_read_its(tmp_path):
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    gw.save(_arrays(), ours)
    read = safetensors_numpy.load_file(str(ours))
    for name, a in _arrays().items():
        np.testing.assert_array_equal(read[name], a)
    safetensors_numpy.save_file({k: np.require(v, requirements="C") for k, v in _arrays().items()},
                                str(theirs), metadata={"format": "np"})
    gw.save(_arrays(), ours, metadata={"format": "np"})
    for name, a in _arrays().items():
        np.testing.assert_array_equal(gw.load(theirs)[name], a)
    # the same bytes as the package writes, header and data alike
    assert ours.read_bytes() == theirs.read_bytes()


def test_tensors_are_saved_as_their_arrays(tmp_path):
    t = gw.tensor([[1.0, 2.0]], requires_grad=True)
    gw.save({"t": t}, tmp_path / "t.safetensors")
    np.testing.assert_array_equal(gw.load(tmp_path / "t.safetensors")["t"], t.data)


@pytest.mark.parametrize("bad, match", [
    ({"a": {"nested": np.zeros(2)}}, "flat"),
    ({"a": np.array(["x"])}, "dtype"),
    ({1: np.zeros(2)}, "strings"),
    ([np.zeros(2)], "dict of arrays"),
])
def test_what_safetensors_cannot_hold_is_refused_by_name(tmp_path, bad, match):
    with pytest.raises(TypeError, match=match):
        gw.save(bad, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def _file(header: dict, data: bytes, pad: bool = True) -> bytes:
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


@pytest.mark.parametrize("content, match", [
    (b"abc", "fewer than the 8"),
    (struct.pack("<Q", 10**12) + b"{}", "header claims"),
    (struct.pack("<Q", 4) + b"\xff\xfe{}", "not UTF-8 JSON"),
    (_file({"a": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 8]}}, b"\0" * 8), "needs"),
    (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4), "cover"),
    (_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
            "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, b"\0" * 12), "gap"),
    (_file({"a": {"dtype": "O", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8), "dtype"),
    (_file({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4), "shape"),
    (_file({"__metadata__": {"k": 1}}, b""), "strings"),
])
def test_a_damaged_or_crafted_file_raises_naming_the_path(tmp_path, content, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as e:
        gw.load(path)
    assert "bad.safetensors" in str(e.value)


def _models():
    gw.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 10))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 4 * 4, 10))
    return ours, theirs


def _train_a_little(model):
    """Running statistics and weights that differ from their initial values."""
    opt = optim.SGD(model.parameters(), lr=0.1)
    X, y = gw.randn(16, 1, 8, 8), gw.tensor(np.arange(16) % 10)
    for _ in range(3):
        opt.zero_grad()
        gw.functional.cross_entropy(model(X), y).backward()
        opt.step()


def test_a_torch_model_loads_our_safetensors_and_gives_the_same_logits(tmp_path):
    from safetensors.torch import load_file

    ours, theirs = _models()
    _train_a_little(ours)
    gw.save(nn.torch_state_dict(ours), tmp_path / "m.safetensors")
    theirs.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    X = np.random.default_rng(1).standard_normal((5, 1, 8, 8)).astype(np.float32)
    ours.eval(), theirs.eval()
    with gw.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(gw.tensor(X)).data, theirs(torch.tensor(X)).numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_torch_weights_load_into_gradwise_by_name(tmp_path):
    from safetensors.torch import save_file

    ours, theirs = _models()
    with torch.no_grad():
        theirs[1].running_mean.uniform_(-1, 1)
        theirs[1].weight.uniform_(0.5, 2)
    save_file(theirs.state_dict(), str(tmp_path / "t.safetensors"))
    result = nn.load_torch_state_dict(ours, gw.load(tmp_path / "t.safetensors"))
    assert result.missing_keys == [] and result.unexpected_keys == []
    nn.load_torch_state_dict(ours, theirs.state_dict())   # torch tensors directly, too
    X = np.random.default_rng(2).standard_normal((3, 1, 8, 8)).astype(np.float32)
    ours.eval(), theirs.eval()
    with gw.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(gw.tensor(X)).data, theirs(torch.tensor(X)).numpy(),
                                   rtol=1e-5, atol=1e-5)


def test_names_convert_both_ways():
    ours, theirs = _models()
    names = list(nn.torch_state_dict(ours))
    assert names == list(theirs.state_dict())
    assert list(nn.from_torch_names(ours, nn.torch_state_dict(ours))) == list(ours.state_dict())
