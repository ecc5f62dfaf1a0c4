"""gradwise.save / gradwise.load: round trips, atomic writes, refusing pickles, clear errors."""
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gradwise as gw
import gradwise.io
from gradwise import nn

SRC = Path(__file__).resolve().parents[1] / "src"


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

    monkeypatch.setattr(gradwise.io.files.os, "fsync", disk_full)
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


SAVE_FOREVER = textwrap.dedent("""
    import sys
    import numpy as np
    import gradwise as gw

    state = {"W": np.ones((2_000, 1_000), np.float32), "b": np.zeros(1_000, np.float32)}
    while True:
        gw.save(state, sys.argv[1])
""")


def test_temp_files_of_writers_killed_mid_save_are_removed_by_the_next_save(tmp_path):
    target = tmp_path / "ckpt.npz"
    script = tmp_path.parent / f"{tmp_path.name}-save_forever.py"  # outside the folder counted
    script.write_text(SAVE_FOREVER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    left = []
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, str(script), str(target)], env=env)
        try:
            deadline = time.monotonic() + 60
            while not any(f".{proc.pid}." in n or f"-{proc.pid}." in n
                          for n in os.listdir(tmp_path) if n.endswith(".tmp")):
                assert proc.poll() is None and time.monotonic() < deadline, "the saver never saved"
                time.sleep(0.001)
        finally:
            os.kill(proc.pid, signal.SIGKILL)  # mid-save: its temporary file exists
            proc.wait()
        left.append(sorted(n for n in os.listdir(tmp_path) if n.endswith(".tmp")))
    assert all(left), "a kill landed between saves: nothing was left to clean up"
    gw.save({"x": np.arange(3)}, target)
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # each dead writer's 8 MB temp file is gone
    np.testing.assert_array_equal(gw.load(target)["x"], np.arange(3))


def test_only_temp_files_of_dead_writers_to_the_same_target_are_removed(tmp_path):
    target = tmp_path / "ckpt.npz"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = gradwise.io.files._temp_path(target, sleeper.pid)     # a live writer in another process
        own = gradwise.io.files._temp_path(target)                   # one of this process (a thread)
        other = gradwise.io.files._temp_path(tmp_path / "other.npz", sleeper.pid + 10**6)
        keep = [live, own, other, tmp_path / ".ckpt.npz.notes.tmp", tmp_path / "ckpt.npz.bak",
                tmp_path / f".ckpt.npz.00000000-{10**7}.0123abcd.tmp"]  # another machine's
        for f in keep:
            f.write_bytes(b"x")
        gw.save({"x": np.arange(2)}, target)
        assert sorted(os.listdir(tmp_path)) == sorted([target.name, *(f.name for f in keep)])
    finally:
        sleeper.kill()
        sleeper.wait()
    gw.save({"x": np.arange(2)}, target)  # now the sleeper is gone: its temp file goes too
    assert sorted(os.listdir(tmp_path)) == sorted([target.name, *(f.name for f in keep[1:])])


def _writes_outside_the_atomic_writer(path: Path):
    """(line, call) for each place in a source file that opens a file for writing itself."""
    import ast

    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in ("write_text", "write_bytes", "tofile", "savez", "savez_compressed"):
            yield node.lineno, name
        elif name == "open" and not (isinstance(f, ast.Attribute) and getattr(f.value, "id", "")
                                     in ("zf", "Image", "gzip", "zipfile")):
            modes = [a for a in node.args[1:2]] + [k.value for k in node.keywords if k.arg == "mode"]
            for m in modes:
                if not (isinstance(m, ast.Constant) and set(str(m.value)) <= set("rbt")):
                    yield node.lineno, f"open(..., {ast.unparse(m)})"


def test_every_file_is_written_through_the_one_atomic_writer():
    root = Path(gradwise.__file__).parent
    found = [f"{p.relative_to(root)}:{line}: {call}" for p in sorted(root.rglob("*.py"))
             if p.relative_to(root).as_posix() != "io/files.py"
             for line, call in _writes_outside_the_atomic_writer(p)]
    assert found == [], "write through gradwise.io.atomic_write instead"


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
    with pytest.raises(ValueError, match="holds a pickled object") as e:
        gw.load(bad_npz)
    assert str(bad_npz) in str(e.value)
    # a raw pickle file
    bad_pkl = tmp_path / "bad.pkl"
    bad_pkl.write_bytes(pickle.dumps({"model": _Exploit()}))
    with pytest.raises(ValueError, match="holds a pickled object") as e:
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


# ---- crafted files ------------------------------------------------------------------------------
def _npz(path, entries: dict) -> Path:
    """A stored .npz whose entries are the given raw .npy bytes."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name + ".npy", data)
    return path


def _npy(arr: np.ndarray) -> bytes:
    import io as stdio

    f = stdio.BytesIO()
    np.lib.format.write_array(f, arr, allow_pickle=False)
    return f.getvalue()


def _tree(text: str) -> bytes:
    return _npy(np.frombuffer(text.encode(), dtype=np.uint8))


def test_a_deeply_nested_tree_is_refused_naming_the_file(tmp_path):
    n = 200_000
    for name, tree in (("lists", "[" * n + "]" * n),
                       ("dicts", '{"dict": [[0, ' * n + "null" + "]]}" * n)):
        path = _npz(tmp_path / f"{name}.npz",
                    {"__tree__": _tree('{"format": "gradwise", "version": 1, "tree": ' + tree + "}")})
        with pytest.raises(ValueError, match=r"damaged tree description: it nests deeper than "
                                             r"\d+ levels") as e:
            gw.load(path)
        assert str(path) in str(e.value)
    # brackets inside strings are text, not nesting
    key = "[" * 1000
    gw.save({key: {"a": [1, (2, {"b": np.arange(2)})]}}, tmp_path / "ok.npz")
    assert gw.load(tmp_path / "ok.npz")[key]["a"][1][1]["b"].tolist() == [0, 1]


def test_the_deepest_tree_save_writes_loads_and_a_deeper_one_is_refused(tmp_path):
    def nest(depth, make):
        x = np.arange(3)
        for _ in range(depth):
            x = make(x)
        return x

    for make in (lambda x: {"k": x}, lambda x: [x], lambda x: (x,)):
        deepest = nest(gradwise.io.MAX_DEPTH, make)
        gw.save(deepest, tmp_path / "deep.npz")
        back = gw.load(tmp_path / "deep.npz")
        for _ in range(gradwise.io.MAX_DEPTH):
            back = back[next(iter(back))] if isinstance(back, dict) else back[0]
        assert back.tolist() == [0, 1, 2]
        with pytest.raises(ValueError, match=f"nests deeper than {gradwise.io.MAX_DEPTH} levels"):
            gw.save(nest(gradwise.io.MAX_DEPTH + 1, make), tmp_path / "deeper.npz")


def test_a_header_declaring_more_data_than_the_entry_holds_is_refused_unread(tmp_path):
    import struct
    import tracemalloc

    header = {"descr": "<f4", "fortran_order": False, "shape": (7_500_000_000,)}  # 30 GB
    f = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(f, header)
    crafted = f.getvalue() + b"\0" * 16
    path = _npz(tmp_path / "huge.npz", {"W": crafted})
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"entry 'W.npy' declares an array of shape "
                                             r"\(7500000000,\) and dtype float32 \(30000000000 "
                                             r"bytes\) but holds 16 bytes") as e:
            gw.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(e.value)
    assert peak < 10 * 2**20  # nothing of the declared size was allocated
    # a shape whose element count overflows int64 is only a large number here
    header["shape"] = (2**40, 2**40)
    f = __import__("io").BytesIO()
    np.lib.format.write_array_header_2_0(f, header)
    with pytest.raises(ValueError, match="declares an array of shape"):
        gw.load(_npz(tmp_path / "overflow.npz", {"W": f.getvalue()}))
    # the zip directory lying about an entry's size (stored: it must equal the bytes stored)
    data = bytearray(_npz(tmp_path / "lie.npz", {"W": _npy(np.ones(4, np.float32))}).read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 0xFFFF0000)  # uncompressed size
    (tmp_path / "lie.npz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"stored entry 'W.npy' claims 4294901760 bytes") as e:
        gw.load(tmp_path / "lie.npz")
    assert "lie.npz" in str(e.value)
    # an honest file of each kind still loads, compressed or not
    np.savez_compressed(tmp_path / "z.npz", W=np.arange(1000.0))
    assert gw.load(tmp_path / "z.npz")["W"].sum() == 499500.0


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
