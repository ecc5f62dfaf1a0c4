"""Text as integer sequences: a character vocabulary, padding, and the chunks of truncated
backpropagation through time."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


class Vocabulary:
    """Symbols <-> integer ids, in a fixed order (the course's char_to_ix and ix_to_char).

    Vocabulary(sorted(set(text))) for a character model; `specials` (e.g. "<pad>", "<unk>")
    come first, so padding is id 0. Symbols not in the vocabulary map to `unk` when it is
    given, else raise a KeyError that names them.
    """

    def __init__(self, symbols: Iterable[str], specials: Iterable[str] = (), unk: str | None = None):
        self.itos = list(dict.fromkeys([*specials, *symbols]))
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        if unk is not None and unk not in self.stoi:
            raise ValueError(f"Vocabulary: unk symbol {unk!r} is not among the symbols")
        self.unk = unk

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, seq: Iterable[str]) -> np.ndarray:
        unk = None if self.unk is None else self.stoi[self.unk]
        try:
            return np.array([self.stoi[s] if unk is None else self.stoi.get(s, unk) for s in seq], dtype=np.int64)
        except KeyError as e:
            raise KeyError(f"Vocabulary: symbol {e.args[0]!r} is not in the vocabulary "
                           f"of {len(self)} symbols") from None

    def decode(self, ids: Iterable[int], join: str = "") -> str:
        return join.join(self.itos[int(i)] for i in ids)


def pad_sequences(seqs: Iterable[np.ndarray], length: int, value: int = 0) -> np.ndarray:
    """(len(seqs), length) int64: each sequence cut to `length` or padded at the end with value."""
    seqs = list(seqs)
    out = np.full((len(seqs), length), value, dtype=np.int64)
    for row, s in zip(out, seqs):
        s = np.asarray(s)[:length]
        row[:len(s)] = s
    return out


def bptt_batches(ids, batch_size: int, seq_len: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Chunks of one long sequence for truncated backpropagation through time.

    The sequence is cut into batch_size streams laid side by side, (batch_size, steps); each
    chunk is X = the next seq_len ids of every stream and Y = X shifted by one (the next
    symbol to predict), both (batch_size, seq_len), the last chunk possibly shorter. Stream b
    of one chunk continues stream b of the one before, so the final hidden state of a chunk
    is the right initial state of the next: carry it over, detached (nn.detach_state).
    """
    ids = np.asarray(ids, dtype=np.int64)
    steps = (len(ids) - 1) // batch_size
    if steps < 1:
        raise ValueError(f"bptt_batches: {len(ids)} ids are too few for {batch_size} streams")
    if seq_len < 1:
        raise ValueError(f"bptt_batches: seq_len must be positive, got {seq_len}")
    X = ids[:batch_size * steps].reshape(batch_size, steps)
    Y = ids[1:batch_size * steps + 1].reshape(batch_size, steps)
    for start in range(0, steps, seq_len):
        yield X[:, start:start + seq_len], Y[:, start:start + seq_len]
