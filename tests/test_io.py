"""gradwise.save / gradwise.load: round trips, atomic writes, refusing pickles, clear errors."""
import json
import os
import pickle

import numpy as np
import pytest

import gradwise as gw
import gradwise.io
from gradwise import nn


def _arrays():
    rng = np.random.default_rng(0)
    return {
        "f32": rng.standard_normal((3, 4)).astype(np.float32),
        "f64": rng.standard_normal(5),
        "f16": np.array([1.5, -2.25], dtype=np.float16),
        "i8": np.array([-128, 0, 127], dtype=np.int8),
        "i64": np.array([2**62, -(2**62)], dtype=np.int64),
        "u16": np.arange(6, dtype=np.uint16).reshape(2, 3),
        "bool": np.array([True, False, True]),
        "c64": np.array([1 + 2j, -3j], dtype=np.complex64),
        "str": np.array(["relu", "tanh"]),
        "zero_d": np.array(7.0),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    }


def test_round_trip_of_a_nested_checkpoint(tmp_path):
    gw.manual_seed(1234)
    gw.rand(5)  # advance the generator: its state has 128-bit ints
    rng_state = gw.get_rng_state()
    assert rng_state["state"]["state"] > 2**64
    obj = {
        "model": _arrays(),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones(2, np.float32)}, 1: {}},
                      "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1],
                                        "nesterov": False, "name": None}]},
        "epoch": 3,
        "lr": np.float32(0.1),
        "best": float("inf"),
        "nan": float("nan"),
        "rng": rng_state,
        "note": "résumé ✓",
        "weights": gw.tensor([[1.0, 2.0]], requires_grad=True),
        (1, "a"): [None, True, [1, 2.5]],
    }
    path = tmp_path / "ckpt.npz"
    gw.save(obj, path)
    back = gw.load(path)

    assert list(back) == list(obj)
    for k, a in obj["model"].items():
        b = back["model"][k]
        assert isinstance(b, np.ndarray) and b.dtype == a.dtype and b.shape == a.shape, k
        np.testing.assert_array_equal(b, a)
    opt = back["optimizer"]
    assert list(opt["state"]) == [0, 1]                     # int keys stay ints
    assert opt["state"][0]["step"] == 3 and opt["state"][1] == {}
    assert opt["param_groups"][0]["betas"] == (0.9, 0.999)  # tuples stay tuples
    assert opt["param_groups"][0]["lr"] == 0.001
    assert opt["param_groups"][0]["nesterov"] is False and opt["param_groups"][0]["name"] is None
    assert back["epoch"] == 3 and type(back["epoch"]) is int
    assert type(back["lr"]) is np.float32 and back["lr"] == np.float32(0.1)
    assert back["best"] == float("inf") and np.isnan(back["nan"])
    assert back["note"] == "résumé ✓"
    assert back[(1, "a")] == [None, True, [1, 2.5]]
    assert isinstance(back["weights"], gw.Tensor) and back["weights"].requires_grad
    np.testing.assert_array_equal(back["weights"].data, [[1.0, 2.0]])

    # the RNG state is exact: restoring it repeats the draws
    assert back["rng"] == rng_state
    expected = gw.rand(4).data
    gw.set_rng_state(back["rng"])
    np.testing.assert_array_equal(gw.rand(4).data, expected)


def test_the_file_is_a_plain_documented_npz(tmp_path):
    path = tmp_path / "plain.npz"
    gw.save({"model": {"0.W": np.eye(2, dtype=np.float32)}, "epoch": 2}, path)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["__tree__", "model/0.W"]
        np.testing.assert_array_equal(z["model/0.W"], np.eye(2))
        meta = json.loads(bytes(z["__tree__"]))
    assert meta["format"] == "gradwise" and meta["version"] == 1
    assert meta["tree"] == {"dict": [["model", {"dict": [["0.W", {"array": "model/0.W"}]]}],
                                     ["epoch", 2]]}


def test_state_dict_round_trip_into_a_fresh_model(tmp_path):
    gw.manual_seed(0)
    a = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    gw.save(a.state_dict(), tmp_path / "m.npz")
    b = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    b.load_state_dict(gw.load(tmp_path / "m.npz"))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and va.dtype == vb.dtype
        np.testing.assert_array_equal(va, vb)


def test_a_plain_npz_without_a_tree_loads_as_a_dict(tmp_path):
    np.savez(tmp_path / "p.npz", w=np.arange(3), b=np.ones(2))
    back = gw.load(tmp_path / "p.npz")
    assert sorted(back) == ["b", "w"]
    np.testing.assert_array_equal(back["w"], np.arange(3))


def test_keys_that_collide_after_joining_get_distinct_entries(tmp_path):
    obj = {"a/b": np.zeros(1), "a": {"b": np.ones(1)}, "__tree__": np.full(1, 2.0)}
    gw.save(obj, tmp_path / "c.npz")
    back = gw.load(tmp_path / "c.npz")
    assert back["a/b"][0] == 0 and back["a"]["b"][0] == 1 and back["__tree__"][0] == 2


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    gw.save({"x": np.arange(3)}, path)
    gw.save({"x": np.arange(4)}, path)  # overwrite in place
    assert os.listdir(tmp_path) == ["ckpt.npz"]
    np.testing.assert_array_equal(gw.load(path)["x"], np.arange(4))


def test_a_failed_write_keeps_the_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    gw.save({"x": np.arange(3)}, path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gradwise.io.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        gw.save({"x": np.arange(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]

    # an unsupported value fails before anything is written
    with pytest.raises(TypeError, match="cannot store a value of type object at 'bad'"):
        gw.save({"x": np.arange(2), "bad": object()}, path)
    with pytest.raises(TypeError, match="dtype object"):
        gw.save({"x": np.array([{}, 1], dtype=object)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_atomic_write_replaces_whole_files_only(tmp_path):
    """The one writer behind every file gradwise writes (results, plots, images, downloads)."""
    path = tmp_path / "result.json"
    gradwise.io.atomic_write(path, lambda f: f.write(b"old"))
    assert path.read_bytes() == b"old"

    def half_then_fail(f):
        f.write(b"half of the new")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        gradwise.io.atomic_write(path, half_then_fail)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["result.json"]       # no temporary file left behind

    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # the mode open() would give

    with pytest.raises(FileNotFoundError, match=r"gradwise.save: cannot write .* no directory"):
        gw.save({"x": np.arange(2)}, tmp_path / "missing" / "ckpt.npz")
    nested = gradwise.io.atomic_write(tmp_path / "a" / "b" / "c.bin", lambda f: f.write(b"x"),
                                      parents=True)
    assert nested.read_bytes() == b"x"


def test_save_figure_writes_a_png(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    path = gradwise.io.save_figure(fig, tmp_path / "plots" / "line.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.listdir(path.parent) == ["line.png"]


class _Exploit:
    """Unpickling this would create a file: a stand-in for arbitrary code execution."""

    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_objects_are_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    _Exploit.marker = str(marker)
    # an npz holding a pickled object array
    bad_npz = tmp_path / "bad.npz"
    np.savez(bad_npz, w=np.ones(2), evil=np.array([_Exploit()], dtype=object))
    with pytest.raises(ValueError, match="pickle") as e:
        gw.load(bad_npz)
    assert str(bad_npz) in str(e.value)
    # a raw pickle file
    bad_pkl = tmp_path / "bad.pkl"
    bad_pkl.write_bytes(pickle.dumps({"model": _Exploit()}))
    with pytest.raises(ValueError, match="pickle") as e:
        gw.load(bad_pkl)
    assert str(bad_pkl) in str(e.value)
    assert not marker.exists()


def test_truncated_or_corrupt_files_give_an_error_naming_the_path(tmp_path):
    path = tmp_path / "ckpt.npz"
    gw.save({"model": {"W": np.random.default_rng(0).standard_normal((50, 50))}, "epoch": 1}, path)
    data = path.read_bytes()
    for cut in (len(data) // 2, 100, 10, 0):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cannot read") as e:
            gw.load(bad)
        assert str(bad) in str(e.value)
    # flipped bytes inside an array entry: the zip CRC catches them
    i = data.index(b"NUMPY", data.index(b"W.npy")) + 200
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(data[:i] + bytes(b ^ 0xFF for b in data[i:i + 8]) + data[i + 8:])
    with pytest.raises(ValueError) as e:
        gw.load(bad)
    assert str(bad) in str(e.value)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        gw.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError, match="no directory"):
        gw.save({}, tmp_path / "nowhere" / "x.npz")


def test_prepare_output_makes_the_folder_first_and_refuses_what_cannot_be_written(tmp_path):
    from gradwise.io import prepare_output

    assert prepare_output(tmp_path / "a" / "b", folder=True) == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir() and list((tmp_path / "a" / "b").iterdir()) == []
    assert prepare_output(tmp_path / "c" / "d" / "m.npz") == tmp_path / "c" / "d" / "m.npz"
    assert (tmp_path / "c" / "d").is_dir() and not (tmp_path / "c" / "d" / "m.npz").exists()
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(NotADirectoryError, match=r"^gradwise train --out: cannot write to '.*notes.txt/out'"):
        prepare_output(blocker / "out", folder=True, who="gradwise train --out")
    with pytest.raises(NotADirectoryError, match="notes.txt' is a file, not a folder"):
        prepare_output(blocker, folder=True)
    with pytest.raises(NotADirectoryError, match="cannot write to"):
        prepare_output(blocker / "m.npz")
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        prepare_output(tmp_path / "a")
