"""Writing any file atomically, and output paths checked before work starts.

atomic_write(path, write) writes to a temporary file in the target's directory, flushes,
fsyncs and renames it over the target (os.replace): a crash mid-write leaves the old file
intact, and the next write to the same target removes the dead writer's temporary file.
Every file gradwise writes goes through it (checkpoints, logs, figures, reports).
"""
from __future__ import annotations

import os
import re
import socket
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

# A temporary file is named after its target, the machine and the process writing it:
#     .{target name}.{host}-{pid}.{8 random hex digits}.tmp
# A writer killed mid-write (kill -9, power loss) cannot remove its own; the next write to the
# same target removes the ones whose writer is gone. A temp file is removed only when it is
# of this machine (host: a hash of its name; on a folder shared by several machines the pid
# of another machine's process means nothing here) and its pid is not a live process (a
# zombie counts as gone: it writes nothing more). A live writer's temp file, in this or
# another process, is never touched, so concurrent writers to one target stay safe; a pid
# reused since by an unrelated process only delays the removal to a later write.
_HOST = f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFFFFFF:08x}"
_TEMP_TAIL = re.compile(r"([0-9a-f]{8})-([0-9]+)\.[0-9a-f]{8}")


def _temp_path(path: Path, pid: int | None = None) -> Path:
    """A fresh temporary path for a write to `path` by process `pid` (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return path.parent / f".{path.name}.{_HOST}-{pid}.{os.urandom(4).hex()}.tmp"


def _process_gone(pid: int) -> bool:
    """Whether no live process of this machine has this pid (POSIX; elsewhere: never sure)."""
    if os.name != "posix" or pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: a probe that delivers nothing
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # PermissionError: alive, another user's
        return False
    try:  # a killed process nobody has reaped yet still answers the probe
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] == b"Z"
    except (OSError, ValueError):
        return False


def _remove_stale_temps(path: Path) -> None:
    """Remove the temporary files of earlier writes to `path` whose writer is gone."""
    prefix = f".{path.name}."
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        tail = _TEMP_TAIL.fullmatch(name[len(prefix):-len(".tmp")])
        if tail is None or tail[1] != _HOST or not _process_gone(int(tail[2])):
            continue
        try:
            os.remove(entry.path)
        except OSError:  # removed meanwhile by another writer's clean-up, or not ours to remove
            pass


def atomic_write(path, write: Callable, *, parents: bool = False, who: str = "") -> Path:
    """Call write(f) on a new temporary file (binary) in the target's folder, flush and fsync
    it, then rename it over `path` and fsync the folder: a reader never sees a half-written
    file, a crash leaves either the old file or the new one, and a write that raises leaves
    the old file as it was (the temporary file is removed). Every file gradwise writes goes
    through here: checkpoints, results, plots, images, downloads. The temporary files left
    by writers killed mid-write are removed by the next write to the same target (see the
    comment above _temp_path for which ones, and why that is safe with concurrent writers).

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
    _remove_stale_temps(path)
    tmp = _temp_path(path)
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
