"""The bottom floor: which array module we compute with, the default dtype, and the one RNG.

gradwise computes with NumPy. Every other module asks this one for the default floating
dtype and for random numbers. Keeping the generator here is what
makes `gradwise.manual_seed(n)` reproduce a whole run. It also holds the small thread pool
that gradwise's own kernels share (set_num_threads, parallel_for), and sets glibc's malloc to
keep freed memory for the next training step (keep_freed_memory).
"""
from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_default_dtype = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """The dtype of tensors made from Python floats and of random draws (float32)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Change the default floating dtype, e.g. to float64 for precision experiments."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the one generator every random draw in gradwise goes through; returns it."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def rng() -> np.random.Generator:
    """The current global generator (replaced, not mutated, by manual_seed)."""
    return _rng


def get_rng_state() -> dict:
    """The generator's full state, as plain data (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state taken by get_rng_state, so the next draws repeat exactly."""
    _rng.bit_generator.state = state


# ---- threads for gradwise's own kernels ------------------------------------------------
# NumPy runs each ufunc on one thread (BLAS has threads of its own), so the activations
# split large arrays into chunks under no_grad and run them on a small pool; NumPy releases
# the GIL inside those loops, so the chunks run at the same time, each writing its own
# slice of the output with the same code as the whole would.

_num_threads = None      # None until first asked: then the default below
_pool = None             # a ThreadPoolExecutor with _num_threads - 1 workers (the caller is one)
_in_parallel = threading.local()


def _default_num_threads() -> int:
    """GRADWISE_NUM_THREADS if set, else the CPUs this process may run on, at most 8
    (the chunks are memory-bound copies: more threads than that only compete for bandwidth)."""
    env = os.environ.get("GRADWISE_NUM_THREADS")
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"GRADWISE_NUM_THREADS must be a positive integer, got {env!r}") from None
        if n < 1:
            raise ValueError(f"GRADWISE_NUM_THREADS must be a positive integer, got {env!r}")
        return n
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def get_num_threads() -> int:
    """How many threads gradwise's own kernels use (see set_num_threads)."""
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_num_threads()
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use n threads in gradwise's own threaded kernels: under no_grad, ReLU and tanh take a
    share of a large array each; 1 runs them on the calling thread. The default is the
    CPUs the process may use, at most 8, or GRADWISE_NUM_THREADS. The GEMMs (linear and
    convolution) run on NumPy's BLAS and its own threads (OPENBLAS_NUM_THREADS,
    threadpoolctl); im2col and pooling (gradwise.kernels) on the calling thread.
    Activations give the same bits for every n."""
    global _num_threads, _pool
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _num_threads = int(n)


def _forget_pool() -> None:
    # a forked child has none of its parent's threads: start a new pool when first needed
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def parallel_for(fn, n: int, grain: int = 1, min_chunk: int = 1) -> None:
    """Call fn(start, stop) over consecutive chunks of range(n) that together cover it, on
    up to get_num_threads() threads, and return when all are done.

    Chunk edges fall on multiples of `grain` (elementwise kernels pass a multiple of the
    SIMD width, so each chunk's loops split exactly as the whole array's would); chunks hold
    at least `min_chunk` items, so small work stays on the calling thread. The caller takes
    chunks too, and a worker that starts late finds none left: on a busy machine the work
    is never slower than one thread by more than the hand-off. fn must write only its own
    chunk's part of the output."""
    threads = get_num_threads()
    if threads == 1 or getattr(_in_parallel, "active", False):
        fn(0, n)
        return
    per = max(min_chunk, grain)
    if n < 2 * per:
        fn(0, n)
        return
    # two chunks a thread: a thread that falls behind leaves its second chunk to another
    chunks = min(2 * threads, n // per)
    size = -(-n // chunks)
    size = -(-size // grain) * grain
    edges = list(range(0, n, size)) + [n]
    todo = iter(range(len(edges) - 1))  # next() on it is atomic under the GIL
    errors = []

    def work():
        _in_parallel.active = True
        try:
            for i in todo:
                fn(edges[i], edges[i + 1])
        except BaseException as e:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(e)
        finally:
            _in_parallel.active = False

    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="gradwise")
    helpers = [_pool.submit(work) for _ in range(min(threads, len(edges) - 1) - 1)]
    work()
    for h in helpers:
        if not h.cancel():   # not started yet: nothing left for it anyway
            h.result()
    if errors:
        raise errors[0]


# ---- memory: keep freed buffers for the next step -----------------------------------------
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt parameters


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of returning it to the OS.

    A training step allocates and frees the same large arrays every time (columns,
    activations, their gradients). By default glibc maps each array over 128 KiB from the
    OS on its own and unmaps it when freed, so the next step page-faults its memory in
    again, zero-filled, and large-batch steps spend more time in page faults than in their
    arithmetic (benchmarks/README.md has the numbers). With arrays up to 32 MiB taken from
    the heap and the heap trimmed only when 256 MiB lie free, steps reuse the memory (peak RSS grows by at most that).

    Called once when gradwise is imported; GRADWISE_KEEP_FREED_MEMORY=0 leaves malloc as
    it is. Returns whether the settings were applied (False off glibc)."""
    if os.environ.get("GRADWISE_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20) and
                    libc.mallopt(_M_TRIM_THRESHOLD, 256 << 20))
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False


_kept_freed_memory = keep_freed_memory()
