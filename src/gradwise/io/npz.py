"""The .npz format of gradwise.save and gradwise.load: any tree of dicts, lists and arrays.

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
the old file intact (and the next write to it removes the dead writer's temporary file).
Loading uses np.load(allow_pickle=False): it never unpickles or runs code; object arrays
are refused on both sides. A .npz without "__tree__" (e.g. from np.savez) loads as a flat
{name: array} dict.
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile

import numpy as np

from ..tensor import Tensor
from .files import atomic_write

TREE_ENTRY = "__tree__"
FORMAT_VERSION = 1
MAX_DEPTH = 64  # dicts/lists/tuples nested in a saved tree (a checkpoint nests about 5)
# JSON levels of a tree MAX_DEPTH deep: the outer object, at most 3 per level (a dict is
# {"dict": [[k, v]]}) and the leaf's {"array": ...}; a deeper description is refused before
# it is parsed
_JSON_DEPTH = 3 * MAX_DEPTH + 2
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')  # a string (skipped) or a bracket
_DEFLATE_MAX_RATIO = 1032  # deflate expands at most about 1032 times


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
        if len(path) >= MAX_DEPTH and isinstance(x, (dict, list, tuple)):
            raise ValueError(f"gradwise.save: the tree nests deeper than {MAX_DEPTH} levels (at "
                             f"'{'/'.join(map(str, path[:8]))}/...'), more than load() reads")
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


def save_npz(obj, path) -> None:
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



def load_npz(path):
    """Read a file written by save(): the same tree, arrays as ndarrays (Tensors as Tensors).

    Never unpickles. A missing file raises FileNotFoundError; a truncated, corrupt, foreign or
    crafted file raises ValueError naming the path, before anything large is allocated: each
    array's declared shape and dtype must account for exactly the bytes its entry holds, and
    the tree description may nest at most MAX_DEPTH levels.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"gradwise.load: no such file: '{path}'")
    try:
        _check_entries(path)
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            arrays = {name: z[name] for name in z.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, MemoryError) as e:
        reason = str(e) or type(e).__name__
        if "pickle" in reason or "Object arrays" in reason:
            reason = "it holds a pickled object, which gradwise refuses to load (" + reason + ")"
        raise ValueError(f"gradwise.load: cannot read '{path}': {reason} "
                         f"(truncated or corrupt file, or not written by gradwise.save?)") from e

    blob = arrays.pop(TREE_ENTRY, None)
    if blob is None:
        return arrays  # a plain npz of named arrays
    try:
        text = blob.tobytes().decode("utf-8")
        _check_depth(text)
        meta = json.loads(text)
        if not isinstance(meta, dict) or meta.get("format") != "gradwise":
            raise ValueError("the __tree__ entry is not a gradwise tree")
        if meta.get("version", 0) > FORMAT_VERSION:
            raise ValueError(f"format version {meta['version']} is newer than this gradwise "
                             f"reads ({FORMAT_VERSION})")
        return _decode(meta["tree"], arrays)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise ValueError(f"gradwise.load: '{path}' has a damaged tree description: {e}") from e


def _check_entries(path: str) -> None:
    """Check, from the zip directory and each .npy header alone, that every entry's declared
    array fits the bytes the entry really holds (a crafted header may declare 30 GB in a file
    of a few bytes) and that no entry claims more data than the archive can hold; refuse
    object arrays (only pickle could read them). Raises ValueError; reads no array data."""
    size = os.path.getsize(path)
    fmt = np.lib.format
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as f:
            first = f.read(1)
        if first == b"\x80":  # the opcode a pickle of protocol 2 or later starts with
            raise ValueError("it holds a pickled object, which gradwise refuses to load") from None
        raise ValueError("not an .npz archive (a zip of .npy entries), or a truncated one") from None
    with archive as zf:
        for info in zf.infolist():
            name = info.filename
            if info.header_offset + info.compress_size > size:
                raise ValueError(f"entry '{name}' claims {info.compress_size} bytes past the end "
                                 f"of the {size}-byte file")
            if info.compress_type == zipfile.ZIP_STORED:
                if info.file_size != info.compress_size:
                    raise ValueError(f"stored entry '{name}' claims {info.file_size} bytes but "
                                     f"holds {info.compress_size}")
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024:
                    raise ValueError(f"deflated entry '{name}' claims {info.file_size} bytes "
                                     f"from {info.compress_size}, more than deflate can expand")
            else:
                raise ValueError(f"entry '{name}' uses zip compression method "
                                 f"{info.compress_type}, which .npz files do not")
            with zf.open(info) as f:
                if f.read(len(fmt.MAGIC_PREFIX)) != fmt.MAGIC_PREFIX:
                    continue  # not an array: np.load hands back its bytes, bounded above
                f.seek(0)
                shape, _, dtype = _read_npy_header(f)
                header = f.tell()
            if dtype.hasobject:
                raise ValueError(f"entry '{name}' has dtype object: it holds a pickled object, "
                                 f"which gradwise refuses to load")
            declared = math.prod(int(n) for n in shape) * dtype.itemsize  # Python ints: exact
            if declared != info.file_size - header:
                raise ValueError(f"entry '{name}' declares an array of shape {tuple(shape)} and "
                                 f"dtype {dtype} ({declared} bytes) but holds "
                                 f"{info.file_size - header} bytes of data")


def _read_npy_header(f):
    """(shape, fortran_order, dtype) of the .npy file f, left at the start of its data."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        return fmt.read_array_header_1_0(f)
    if version == (2, 0):
        return fmt.read_array_header_2_0(f)
    if version == (3, 0):  # utf-8 field names; NumPy reads it only through this helper
        return fmt._read_array_header(f, version)
    raise ValueError(f".npy format version {version} is unknown")


def _check_depth(text: str) -> None:
    """Refuse a tree description nested deeper than a saved tree can be, before the JSON
    parser (and _decode) would recurse into it: one pass counting brackets outside strings."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        c = token.group()
        if c in ("[", "{"):
            depth += 1
            if depth > _JSON_DEPTH:
                raise ValueError(f"it nests deeper than {_JSON_DEPTH} levels (a saved tree has "
                                 f"at most {MAX_DEPTH} levels of dicts, lists and tuples)")
        elif c in ("]", "}"):
            depth -= 1
