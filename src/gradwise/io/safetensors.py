"""The safetensors format, read and written by gradwise itself: a flat {name: array} file that
PyTorch, JAX and the Hugging Face tools load without running code.

    8 bytes      N, the header's length (unsigned 64-bit, little-endian)
    N bytes      a UTF-8 JSON object: {name: {"dtype": "F32", "shape": [3, 4],
                 "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
                 padded with spaces to a multiple of 8 bytes
    the rest     the arrays' bytes, C order, little-endian; offsets count from here and
                 cover it exactly, without gaps or overlaps

Arrays are written in the `safetensors` package's order (its dtype order, the largest types
first, then by name), so that each starts aligned in a memory-mapped file and the bytes are
the package's own. Reading checks every field against the
file's real size before it allocates anything: a damaged or crafted file raises ValueError
naming the path and the entry.
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

from ..tensor import Tensor
from .files import atomic_write

METADATA = "__metadata__"
MAX_HEADER = 100 << 20       # the `safetensors` package's limit on the JSON header

_CODES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
          "F16": np.float16, "U32": np.uint32, "I32": np.int32, "F32": np.float32,
          "U64": np.uint64, "I64": np.int64, "F64": np.float64}
_DTYPES = {np.dtype(t).newbyteorder("<"): code for code, t in _CODES.items()}
# the package's dtype enumeration, in its order: arrays are written from the last backwards
_RANK = {code: i for i, code in enumerate(
    ["BOOL", "U8", "I8", "I16", "U16", "F16", "I32", "U32", "F32", "F64", "I64", "U64"])}


def _as_array(name: str, value) -> np.ndarray:
    arr = value.data if isinstance(value, Tensor) else value
    if not isinstance(arr, np.ndarray):
        if isinstance(arr, (dict, list, tuple)):
            raise TypeError(f"gradwise.save: a .safetensors file holds a flat {{name: array}} "
                            f"dict, but '{name}' is a {type(arr).__name__}; save nested trees "
                            f"(checkpoints with an optimizer) as .npz")
        arr = np.asarray(arr)
    code = _DTYPES.get(arr.dtype.newbyteorder("<"))
    if code is None:
        raise TypeError(f"gradwise.save: '{name}' has dtype {arr.dtype}, which safetensors "
                        f"does not hold (it holds {', '.join(_CODES)})")
    return arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)  # keeps 0-d arrays 0-d


def save_safetensors(tensors: dict, path, metadata: dict | None = None) -> None:
    """Write {name: array or Tensor} to path atomically; metadata: {str: str} kept in the
    header (e.g. {"format": "pt"}, which transformers asks for)."""
    if not isinstance(tensors, dict):
        raise TypeError(f"gradwise.save: a .safetensors file holds a dict of arrays (a state "
                        f"dict), got {type(tensors).__name__}")
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == METADATA:
            raise TypeError(f"gradwise.save: safetensors names are strings other than "
                            f"{METADATA!r}, got {name!r}")
        arrays[name] = _as_array(name, value)
    order = sorted(arrays, key=lambda k: (-_RANK[_DTYPES[arrays[k].dtype]], k))
    header, offset = {}, 0
    for name in order:
        a = arrays[name]
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("gradwise.save: safetensors metadata maps strings to strings")
        header = {METADATA: dict(metadata), **header}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)

    def write(f):
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(arrays[name].tobytes())

    atomic_write(path, write, who="gradwise.save")


def load_safetensors(path, with_metadata: bool = False):
    """The {name: array} dict of a .safetensors file, in the file's order (and its metadata
    dict when with_metadata). Never runs code from the file."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            header, metadata, start = _read_header(f, size)
            arrays = {}
            for name, (dtype, shape, begin, end) in header.items():
                f.seek(start + begin)
                data = f.read(end - begin)
                arrays[name] = np.frombuffer(data, dtype=dtype).reshape(shape).astype(
                    dtype.newbyteorder("="), copy=True)
    except ValueError as e:
        raise ValueError(f"gradwise.load: cannot read '{path}' as safetensors: {e}") from None
    return (arrays, metadata) if with_metadata else arrays


def _read_header(f, size: int):
    """({name: (dtype, shape, begin, end)}, metadata, start of the data), every field checked
    against the file's size."""
    if size < 8:
        raise ValueError(f"the file has {size} bytes, fewer than the 8 of the header's length")
    (n,) = struct.unpack("<Q", f.read(8))
    if n > MAX_HEADER or 8 + n > size:
        raise ValueError(f"the header claims {n} bytes, more than the file's {size} "
                         f"(or the {MAX_HEADER}-byte limit)")
    try:
        raw = json.loads(f.read(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"the header is not UTF-8 JSON ({e})") from None
    if not isinstance(raw, dict):
        raise ValueError("the header is not a JSON object")
    metadata = raw.pop(METADATA, None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("__metadata__ must map strings to strings")
    header, spans = {}, []
    for name, entry in raw.items():
        header[name] = _entry(name, entry)
        spans.append(header[name][2:])
    _check_covered(sorted(spans), size - 8 - n)
    return header, metadata, 8 + n


def _entry(name: str, entry) -> tuple:
    if not isinstance(entry, dict) or entry.get("dtype") not in _CODES:
        raise ValueError(f"entry '{name}' has no dtype among {', '.join(_CODES)}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise ValueError(f"entry '{name}' has shape {shape!r}, not a list of sizes")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise ValueError(f"entry '{name}' has data_offsets {offsets!r}, not [begin, end]")
    dtype = np.dtype(_CODES[entry["dtype"]]).newbyteorder("<")
    count = 1
    for d in shape:
        count *= d  # Python ints: exact, so a crafted shape cannot wrap around
    if count * dtype.itemsize != offsets[1] - offsets[0]:
        raise ValueError(f"entry '{name}' of shape {tuple(shape)} and dtype {entry['dtype']} "
                         f"needs {count * dtype.itemsize} bytes but spans {offsets[1] - offsets[0]}")
    return dtype, tuple(shape), offsets[0], offsets[1]


def _check_covered(spans: list, data_size: int) -> None:
    """The entries' byte ranges, sorted, must tile the data exactly: no gap, no overlap, no
    byte past the end of the file."""
    at = 0
    for begin, end in spans:
        if begin != at:
            raise ValueError(f"the entries leave a gap or overlap at byte {min(begin, at)} of the data")
        at = end
    if at != data_size:
        raise ValueError(f"the entries cover {at} bytes of data but the file holds {data_size}")
