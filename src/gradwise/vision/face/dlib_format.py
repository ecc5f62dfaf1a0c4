"""dlib's binary serialization, read in NumPy: the format of dlib's .dat model files.

dlib writes every value with its own encoding (dlib/serialize.h):

    integer   one control byte, then |v| in that many little-endian bytes
              (control & 0x0F: the byte count; control & 0x80: the sign)
    float     two integers, mantissa m and exponent e: the value m * 2**e
    string    an integer length, then the bytes
    bool      one character, '1' or '0'
    tensor    an integer version (2), the dims n, k, nr, nc (four integers), then the
              values as little-endian float32 (dlib/dnn/tensor.h)
    matrix    nr, nc (negated in the current format), then nr * nc values, row by row

A reader keeps the file's name so that every error (a truncated file, a foreign one)
names the file and the field at fault.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np


class DlibReader:
    """A cursor over the bytes of a dlib .dat file.

        r = DlibReader("model.dat")
        r.string("the layer's name"); W = r.tensor("the filters")
    """

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no dlib model file '{self.path}'")
        self.data = self.path.read_bytes()
        self.pos = 0

    def error(self, field: str, why: str) -> ValueError:
        return ValueError(f"'{self.path}' is not a dlib model this reader knows: {field} at byte "
                          f"{self.pos}: {why}")

    def _take(self, n: int, field: str) -> bytes:
        if self.pos + n > len(self.data):
            raise self.error(field, f"the file ends after {len(self.data)} bytes (truncated?)")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self, field: str) -> int:
        control = self._take(1, field)[0]
        if control & 0x70:             # bits dlib never sets in a control byte
            raise self.error(field, f"expected an integer, found the byte 0x{control:02x}")
        size = control & 0x0F
        if size > 8:
            raise self.error(field, f"an integer of {size} bytes")
        v = int.from_bytes(self._take(size, field), "little")
        return -v if control & 0x80 else v

    def float(self, field: str) -> float:
        mantissa, exponent = self.int(field), self.int(field)
        return float(np.ldexp(float(mantissa), exponent))

    def string(self, field: str, max_len: int = 256) -> str:
        n = self.int(field)
        if n > max_len:
            raise self.error(field, f"a string of {n} bytes")
        return self._take(n, field).decode("latin-1")

    def expect(self, field: str, *names: str) -> str:
        """A string that must be one of `names` (a layer's or an object's version tag)."""
        start = self.pos
        try:
            name = self.string(field)
        except ValueError:
            self.pos = start
            raise self.error(field, f"expected {' or '.join(map(repr, names))}") from None
        if name not in names:
            self.pos = start
            raise self.error(field, f"expected {' or '.join(map(repr, names))}, found {name!r}")
        return name

    def peek_string(self) -> str | None:
        """The string at the cursor, if one is there, without moving the cursor."""
        start = self.pos
        try:
            return self.string("a peek", max_len=64)
        except ValueError:
            return None
        finally:
            self.pos = start

    def bool(self, field: str) -> bool:
        c = self._take(1, field)
        if c not in (b"0", b"1"):
            raise self.error(field, f"expected a bool ('0' or '1'), found {c!r}")
        return c == b"1"

    def tensor(self, field: str) -> np.ndarray:
        """A dlib tensor as a float32 array of shape (n, k, nr, nc)."""
        version = self.int(field)
        if version != 2:
            raise self.error(field, f"tensor version {version} (this reader knows version 2)")
        shape = tuple(self.int(field) for _ in range(4))
        count = int(np.prod(shape, dtype=np.int64))
        raw = self._take(4 * count, field)
        return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)

    def ints(self, count: int, field: str) -> np.ndarray:
        """`count` integers in a row as an int64 array: one pass over the control bytes to
        find where each starts, then all of them decoded at once."""
        data, pos = self.data, self.pos
        starts = np.empty(count, np.int64)
        for k in range(count):
            if pos >= len(data):
                raise self.error(field, f"the file ends after {len(data)} bytes (truncated?)")
            starts[k] = pos
            pos += 1 + (data[pos] & 0x0F)
        if pos > len(data):
            raise self.error(field, f"the file ends after {len(data)} bytes (truncated?)")
        raw = np.frombuffer(data, np.uint8)
        control = raw[starts]
        if ((control & 0x70) != 0).any() or ((control & 0x0F) > 8).any():
            self.pos = int(starts[np.argmax(((control & 0x70) != 0) | ((control & 0x0F) > 8))])
            raise self.error(field, "expected an integer")
        size = (control & 0x0F).astype(np.int64)
        values = np.zeros(count, np.uint64)
        for b in range(int(size.max(initial=0))):
            byte = raw[np.minimum(starts + 1 + b, len(raw) - 1)].astype(np.uint64)
            values |= np.where(b < size, byte, 0).astype(np.uint64) << np.uint64(8 * b)
        self.pos = pos
        return np.where(control & 0x80, -values.astype(np.int64), values.astype(np.int64))

    def floats(self, count: int, field: str) -> np.ndarray:
        """`count` floats in a row (each a mantissa and an exponent) as a float64 array."""
        me = self.ints(2 * count, field).reshape(count, 2)
        return np.ldexp(me[:, 0].astype(np.float64), me[:, 1].astype(np.int32))

    def matrix(self, field: str) -> np.ndarray:
        """A dlib matrix of floats as a float64 array (nr, nc)."""
        nr, nc = self.int(field), self.int(field)
        nr, nc = abs(nr), abs(nc)       # the current format writes the dims negated
        return self.floats(nr * nc, field).reshape(nr, nc)

    def at_end(self) -> bool:
        return self.pos == len(self.data)

    def end(self, what: str) -> None:
        if not self.at_end():
            raise self.error(what, f"{len(self.data) - self.pos} bytes left over after the model")
