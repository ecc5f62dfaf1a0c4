"""Where dataset files come from: a local folder, the cache, or a public mirror.

Lookup order for a file such as ``mnist/train-images-idx3-ubyte.gz`` (always
``<root>/<dataset>/<file>``):

1. ``data_dir=`` when a loader is given one (then only that folder is searched, and a
   download, if any, goes there);
2. otherwise every folder in ``$GRADWISE_DATA`` (several may be joined with ``os.pathsep``),
   then ``~/.cache/gradwise`` (the download cache).

A file that is found is checked against the size and sha256 in :data:`FILES` before anyone
parses it (once per file per process: the verdict is cached by path, size and mtime, since
hashing the 26 MB Fashion-MNIST images costs ~0.1 s). A file that is found nowhere is
downloaded from its public mirrors into the cache with a progress bar, verified while it
streams, and moved into place atomically (temp file + ``os.replace``), so an interrupted
download never leaves a half file under the real name, and a failed one leaves no folder it
created behind. Each connection gives up after ``$GRADWISE_DOWNLOAD_TIMEOUT`` seconds without
an answer (30 by default; it bounds the connect and every read, so a mirror that accepts and
never answers fails in that time, not never). The course files have no reliable public mirror:
the error says where to put them.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..io import atomic_write

__all__ = [
    "FILES", "FileSpec", "DatasetIntegrityError", "cache_dir", "search_roots", "fetch",
    "missing", "verify", "sha256_of", "download_timeout",
]

ENV_VAR = "GRADWISE_DATA"
TIMEOUT_VAR = "GRADWISE_DOWNLOAD_TIMEOUT"
DEFAULT_TIMEOUT = 30.0   # seconds a connection may wait for the mirror (connect, each read)

_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
_COURSE_NOTE = (
    "the deeplearning.ai course files have no reliable public mirror (copies found online are "
    "often Git-LFS pointers or different files with the same name); take the file from the "
    "course materials and check its sha256"
)


@dataclass(frozen=True)
class FileSpec:
    """One known file: its size in bytes, its sha256 and the base URLs it can be fetched from."""
    size: int
    sha256: str
    mirrors: tuple = ()


# Published sizes and sha256 of every file a loader may ask for (relative to a data root).
FILES: dict[str, FileSpec] = {
    "mnist/train-images-idx3-ubyte.gz": FileSpec(
        9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", _MNIST_MIRRORS),
    "mnist/train-labels-idx1-ubyte.gz": FileSpec(
        28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", _MNIST_MIRRORS),
    "mnist/t10k-images-idx3-ubyte.gz": FileSpec(
        1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", _MNIST_MIRRORS),
    "mnist/t10k-labels-idx1-ubyte.gz": FileSpec(
        4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", _MNIST_MIRRORS),
    "fashion-mnist/train-images-idx3-ubyte.gz": FileSpec(
        26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", _FASHION_MIRRORS),
    "fashion-mnist/train-labels-idx1-ubyte.gz": FileSpec(
        29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", _FASHION_MIRRORS),
    "fashion-mnist/t10k-images-idx3-ubyte.gz": FileSpec(
        4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", _FASHION_MIRRORS),
    "fashion-mnist/t10k-labels-idx1-ubyte.gz": FileSpec(
        5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", _FASHION_MIRRORS),
    "course/train_catvnoncat.h5": FileSpec(
        2572022, "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242"),
    "course/test_catvnoncat.h5": FileSpec(
        616958, "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951"),
    "course/data.mat": FileSpec(
        6038, "1218828095bf91d215622d00b2a5b8784c359e29d9d9c5734949b8e60c5bc231"),
    "course/train_signs.h5": FileSpec(
        13281872, "47480709d99f2ea6ae428ecc491fc6f65ff1d05336736dd859d5565e0ad3cf74"),
    "course/test_signs.h5": FileSpec(
        1477712, "539fb746ed9e947eb244cfca73f4d1b03f9bf5524d609eeed2cd76ddb1b179be"),
    "course/train_happy.h5": FileSpec(
        7379760, "65cbc8a1b83b0b8fa76026f37ba6421a8a29f90a223c31799a1d808bc7d19566"),
    "course/test_happy.h5": FileSpec(
        1846560, "5e23db2f28769de83214dce1411e651489d713f9e1ec5d1ca6a61b6222115add"),
}


class DatasetIntegrityError(ValueError):
    """A dataset file has the wrong size or sha256 (truncated, corrupted or a different file)."""


def cache_dir() -> Path:
    """The download cache, ``~/.cache/gradwise``."""
    return Path.home() / ".cache" / "gradwise"


def search_roots(data_dir=None) -> list[Path]:
    """The folders searched, in order: ``[data_dir]`` if given, else $GRADWISE_DATA then the cache."""
    if data_dir is not None:
        return [Path(data_dir).expanduser()]
    roots = [Path(p).expanduser() for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    roots.append(cache_dir())
    return roots


# ---- integrity ------------------------------------------------------------------------
_verified: dict[tuple, bool] = {}
_lock = threading.Lock()


def sha256_of(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify(path, rel: str) -> Path:
    """Check ``path`` against FILES[rel] (size first, then sha256); raise DatasetIntegrityError.

    A passing verdict is remembered for this process, keyed by the resolved path, size and
    mtime, so a file that is replaced or touched is checked again.
    """
    path = Path(path)
    spec = FILES[rel]
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if _verified.get(key):
        return path
    fix = (f"delete it (a fresh copy will be fetched, or put a good copy there) or point "
           f"gradwise elsewhere with data_dir= or ${ENV_VAR}")
    if st.st_size != spec.size:
        raise DatasetIntegrityError(
            f"{rel}: file {path} is corrupted or truncated: {st.st_size} bytes, expected "
            f"{spec.size} bytes (sha256 {spec.sha256}); {fix}")
    digest = sha256_of(path)
    if digest != spec.sha256:
        raise DatasetIntegrityError(
            f"{rel}: file {path} is corrupted: sha256 {digest}, expected {spec.sha256}; {fix}")
    with _lock:
        _verified[key] = True
    return path


# ---- download -------------------------------------------------------------------------
def download_timeout() -> float:
    """Seconds a download waits on a silent mirror: $GRADWISE_DOWNLOAD_TIMEOUT, else 30."""
    text = os.environ.get(TIMEOUT_VAR, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"${TIMEOUT_VAR} must be a positive number of seconds, got {text!r}")
    return seconds


def _urlopen(url: str, timeout: float):
    # looked up at call time so tests can monkeypatch urllib.request.urlopen
    return urllib.request.urlopen(url, timeout=timeout)


def _progress(total: int, desc: str):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is a nicety, never a requirement
        return None
    return tqdm(total=total or None, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                leave=False)


def _new_folders(directory: Path) -> list[Path]:
    """The folders that creating ``directory`` would make, outermost first."""
    new = []
    while not directory.exists() and directory != directory.parent:
        new.append(directory)
        directory = directory.parent
    return new[::-1]


def _download(url: str, dest: Path, rel: str, timeout: float) -> Path:
    """Stream ``url`` into ``dest`` atomically, checking size and sha256 on the way: a
    download that is cut short or does not match never replaces anything, and the folders
    made for it are removed again (those still empty)."""
    spec = FILES[rel]

    def write(out):
        h, n = hashlib.sha256(), 0
        with _urlopen(url, timeout) as resp:
            bar = _progress(int(resp.headers.get("Content-Length") or spec.size), dest.name)
            try:
                while block := resp.read(1 << 16):
                    out.write(block)
                    h.update(block)
                    n += len(block)
                    if bar is not None:
                        bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()
        if n != spec.size or h.hexdigest() != spec.sha256:
            raise DatasetIntegrityError(
                f"{rel}: download from {url} gave {n} bytes with sha256 {h.hexdigest()}, "
                f"expected {spec.size} bytes with sha256 {spec.sha256}")

    created = _new_folders(dest.parent)
    try:
        atomic_write(dest, write, parents=True)
    except BaseException:
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:      # not empty: another download put a file there meanwhile
                break
        raise
    st = dest.stat()
    with _lock:
        _verified[(str(dest.resolve()), st.st_size, st.st_mtime_ns)] = True
    return dest


def missing(rels, data_dir=None) -> list[str]:
    """Those of the files ``rels`` that are in none of the :func:`search_roots`."""
    roots = search_roots(data_dir)
    return [rel for rel in rels if not any((root / rel).is_file() for root in roots)]


def fetch(rel: str, data_dir=None, download: bool = True, timeout: float | None = None) -> Path:
    """The verified local path of ``rel`` (e.g. ``"mnist/t10k-labels-idx1-ubyte.gz"``).

    Searches :func:`search_roots`; if absent everywhere and the file has mirrors, downloads it
    into ``data_dir`` (when given) or the cache, each connection giving up after `timeout`
    seconds of silence (None: :func:`download_timeout`). Raises FileNotFoundError naming the
    file, the folders searched and how to point gradwise at a copy; DatasetIntegrityError for
    a bad file.
    """
    if rel not in FILES:
        raise KeyError(f"fetch: unknown dataset file {rel!r}; known: {sorted(FILES)}")
    spec = FILES[rel]
    roots = search_roots(data_dir)
    for root in roots:
        candidate = root / rel
        if candidate.is_file():
            return verify(candidate, rel)

    target = roots[0] / rel if data_dir is not None else cache_dir() / rel
    failures = []
    if download and spec.mirrors:
        timeout = download_timeout() if timeout is None else timeout
        name = rel.split("/", 1)[1]
        for base in spec.mirrors:
            url = base + name
            try:
                return _download(url, target, rel, timeout)
            except (OSError, http.client.HTTPException, DatasetIntegrityError) as e:
                # URLError and timeouts are OSErrors; a dropped connection is an HTTPException
                slow = (f" (no answer in {timeout:g} s; ${TIMEOUT_VAR} sets the wait)"
                        if "timed out" in str(e) else "")
                failures.append(f"{url}: {e}{slow}")

    searched = "\n".join(f"    {r / rel}" for r in roots)
    lines = [f"dataset file {rel!r} not found (expected {spec.size} bytes, sha256 {spec.sha256}).",
             f"  looked for it at:\n{searched}"]
    if failures:
        lines.append("  download failed (no network?):\n" + "\n".join(f"    {f}" for f in failures))
    elif not spec.mirrors:
        lines.append(f"  no download: {_COURSE_NOTE}.")
    else:
        lines.append("  download disabled (download=False).")
    lines.append(f"  fix: put the file at <folder>/{rel} and pass data_dir=<folder> to the loader, "
                 f"or set the environment variable {ENV_VAR}=<folder> (several folders may be "
                 f"joined with {os.pathsep!r}), or copy it to {cache_dir() / rel}.")
    raise FileNotFoundError("\n".join(lines))
