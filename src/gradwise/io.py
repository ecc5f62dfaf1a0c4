"""Saving and loading state dicts and checkpoints: gradwise.save(obj, path), gradwise.load(path).

    gradwise.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                   "epoch": 3, "rng": gradwise.get_rng_state()}, "run.ckpt")
    ckpt = gradwise.load("run.ckpt")

`obj` is a tree of dicts, lists and tuples whose leaves are ndarrays, Tensors, NumPy scalars,
Python numbers (ints of any size: the RNG state holds 128-bit ones), strings, bools or None.

The format is a plain, uncompressed .npz (a zip of .npy files) that any NumPy can read:

- every array leaf is one entry, named by its key path joined with '/'
  (e.g. "model/0.W", "optimizer/state/0/exp_avg"); the names are labels only;
- one entry "__tree__" is a uint8 array holding UTF-8 JSON:
  {"format": "gradwise", "version": 1, "tree": NODE}, where a NODE is
      a JSON null, bool, number or string      -> that Python value (ints exact, any size)
      a JSON list of NODEs                     -> a list
      {"tuple": [NODE, ...]}                   -> a tuple
      {"dict": [[KEY_NODE, NODE], ...]}        -> a dict, in order (keys may be ints)
      {"array": NAME}                          -> the ndarray stored under NAME
      {"array": NAME, "as": "tensor"}          -> a Tensor of it (requires_grad as saved,
                                                  "requires_grad": true)
      {"array": NAME, "as": "scalar"}          -> a NumPy scalar (np.float32(0.1) stays one)

    np.load("run.ckpt")["model/0.W"]                    # an array, without gradwise
    json.loads(bytes(np.load("run.ckpt")["__tree__"]))  # the tree

Writing is atomic: the archive goes to a temporary file in the target's directory, which is
flushed, fsynced and then renamed over the target (os.replace), so a crash mid-write leaves
the old file intact. Loading uses np.load(allow_pickle=False): it never unpickles or runs
code; object arrays are refused on both sides. A .npz without "__tree__" (e.g. from
np.savez) loads as a flat {name: array} dict.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .tensor import Tensor

TREE_ENTRY = "__tree__"
FORMAT_VERSION = 1


# ---- the tree <-> JSON plus named arrays --------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _name(self, path: tuple) -> str:
        base = "/".join(str(p) for p in path) or "array"
        name, k = base, 1
        while name in self.arrays or name == TREE_ENTRY:
            name, k = f"{base}#{k}", k + 1
        return name

    def _array(self, arr: np.ndarray, path: tuple, **tags) -> dict:
        if arr.dtype.hasobject:
            raise TypeError(f"gradwise.save: the array at '{'/'.join(map(str, path))}' has dtype "
                            f"object, which only pickle could store; convert it to a numeric array")
        name = self._name(path)
        self.arrays[name] = arr
        return {"array": name, **tags}

    def encode(self, x, path: tuple = ()):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, Tensor):
            tags = {"requires_grad": True} if x.requires_grad else {}
            return self._array(x.data, path, **{"as": "tensor"}, **tags)
        if isinstance(x, np.ndarray):
            return self._array(x, path)
        if isinstance(x, np.generic):  # before float: np.float64 is a float subclass
            return self._array(np.asarray(x), path, **{"as": "scalar"})
        if isinstance(x, (int, float)):
            return x
        if isinstance(x, dict):
            return {"dict": [[self.encode(k, path + ("key",)), self.encode(v, path + (k,))]
                             for k, v in x.items()]}
        if isinstance(x, list):
            return [self.encode(v, path + (i,)) for i, v in enumerate(x)]
        if isinstance(x, tuple):
            return {"tuple": [self.encode(v, path + (i,)) for i, v in enumerate(x)]}
        where = "/".join(map(str, path)) or "the top level"
        raise TypeError(f"gradwise.save: cannot store a value of type {type(x).__name__} at "
                        f"'{where}': only dicts, lists, tuples, arrays, Tensors, numbers, "
                        f"strings, bools and None")


def _decode(node, arrays):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if "dict" in node:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["dict"]}
    if "tuple" in node:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    arr = arrays[node["array"]]
    kind = node.get("as")
    if kind == "tensor":
        return Tensor(arr, requires_grad=node.get("requires_grad", False))
    if kind == "scalar":
        return arr[()]
    return arr


# ---- save -----------------------------------------------------------------------------------
def save(obj, path) -> None:
    """Write `obj` (a tree of dicts/lists of arrays, Tensors and plain values) to `path`,
    atomically, as the .npz described in this module's docstring."""
    path = os.fspath(path)
    enc = _Encoder()
    meta = {"format": "gradwise", "version": FORMAT_VERSION, "tree": enc.encode(obj)}
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, arr in [(TREE_ENTRY, blob), *enc.arrays.items()]:
                with zf.open(name + ".npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, np.asanyarray(arr), allow_pickle=False)

    atomic_write(path, write, who="gradwise.save")


# ---- writing any file atomically -------------------------------------------------------------
def atomic_write(path, write: Callable, *, parents: bool = False, who: str = "") -> Path:
    """Call write(f) on a new temporary file (binary) in the target's folder, flush and fsync
    it, then rename it over `path` and fsync the folder: a reader never sees a half-written
    file, a crash leaves either the old file or the new one, and a write that raises leaves
    the old file as it was (the temporary file is removed). Every file gradwise writes goes
    through here: checkpoints, results, plots, images, downloads.

    parents: create missing folders; otherwise a missing folder is a FileNotFoundError that
    names it (`who`, e.g. "gradwise.save", prefixes the message). The file gets the mode
    open() would give it (0o666 less the umask)."""
    path = Path(path)
    directory = path.parent
    if parents:
        directory.mkdir(parents=True, exist_ok=True)
    elif not directory.is_dir():
        raise FileNotFoundError(f"{who + ': ' if who else ''}cannot write '{path}': "
                                f"no directory '{directory}'")
    tmp = directory / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    # O_EXCL: never clobber a file; 0o666 lets the umask decide the mode, as open() does
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(directory)
    return path


def prepare_output(path, *, folder: bool = False, who: str = "") -> Path:
    """Make sure `path` can be written before the work that fills it: create the folder
    `path` (folder=True) or the folder of the file `path`, parents included, and create and
    remove a file there. A command calls this first, so a mistyped or unwritable output path
    fails at once, not after minutes of training.

    Raises OSError (FileExistsError, NotADirectoryError, PermissionError, ...) naming the
    path; `who` (e.g. "gradwise train --out") prefixes the message."""
    path = Path(path)
    directory = path if folder else path.parent
    prefix = f"{who}: " if who else ""
    try:
        if not folder and path.is_dir():
            raise IsADirectoryError(f"'{path}' is a folder, not a file")
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"'{directory}' is a file, not a folder")
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as e:
        reason = e.strerror or str(e)
        where = f" ('{e.filename}')" if e.filename and str(e.filename) != str(directory) else ""
        raise type(e)(f"{prefix}cannot write to '{path}': {reason}{where}") from None
    return path


def save_figure(fig, path, dpi: int = 100, **savefig_kwargs) -> Path:
    """A matplotlib Figure written atomically as PNG (missing folders created)."""
    return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi, **savefig_kwargs),
                        parents=True)


def _fsync_dir(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- load -----------------------------------------------------------------------------------
def load(path):
    """Read a file written by save(): the same tree, arrays as ndarrays (Tensors as Tensors).

    Never unpickles. A missing file raises FileNotFoundError; a truncated, corrupt or foreign
    file raises ValueError naming the path.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"gradwise.load: no such file: '{path}'")
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            arrays = {name: z[name] for name in z.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        reason = str(e)
        if "pickle" in reason or "Object arrays" in reason:
            reason = "it holds a pickled object, which gradwise refuses to load (" + reason + ")"
        raise ValueError(f"gradwise.load: cannot read '{path}': {reason} "
                         f"(truncated or corrupt file, or not written by gradwise.save?)") from e

    blob = arrays.pop(TREE_ENTRY, None)
    if blob is None:
        return arrays  # a plain npz of named arrays
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
        if meta.get("format") != "gradwise":
            raise ValueError("the __tree__ entry is not a gradwise tree")
        if meta.get("version", 0) > FORMAT_VERSION:
            raise ValueError(f"format version {meta['version']} is newer than this gradwise "
                             f"reads ({FORMAT_VERSION})")
        return _decode(meta["tree"], arrays)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"gradwise.load: '{path}' has a damaged tree description: {e}") from e
