"""Crash-safe file writes: a reader sees either the old file or the new one, never half of one.

Each write goes to a temporary file in the same folder (so the final rename never crosses a file
system), is flushed and fsynced, then ``os.replace``d over the target; the folder is fsynced too where
the platform allows it, so the rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import AtomicWriteError, DiskFullError

# Windows reports a full disk as these winerror codes (ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL).
_WIN_DISK_FULL = {39, 112}
_DISK_FULL_ERRNOS = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


def is_disk_full(exc: BaseException) -> bool:
    """True for the OSErrors that mean "no space left" on any platform."""
    return isinstance(exc, OSError) and (
        exc.errno in _DISK_FULL_ERRNOS or getattr(exc, "winerror", None) in _WIN_DISK_FULL
    )


def write_error(path: Path | str, exc: OSError) -> AtomicWriteError:
    """Turn a low-level OSError into one whose message tells the user what happened and what to do."""
    if is_disk_full(exc):
        return DiskFullError(
            f"The disk is full: could not write {path}. Nothing was changed; free some disk space and try again.",
            exc.errno,
            str(path),
        )
    reason = exc.strerror or str(exc)
    err = AtomicWriteError(f"Could not write {path} ({reason}). Nothing was changed.", exc.errno, str(path))
    err.strerror = reason  # the bare reason, for callers that word their own message around it
    return err


def fsync_dir(path: Path | str) -> None:
    """Make a rename or new entry in ``path`` durable. Best effort: Windows and some file systems
    cannot open or fsync a folder, and the data itself was already fsynced."""
    if os.name == "nt":
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: Path | str) -> None:
    """Flush a file someone else wrote (e.g. ``save_pretrained``) to disk."""
    # Windows' fsync (_commit) needs a handle opened for writing; POSIX is fine with read-only.
    flags = os.O_RDWR if os.name == "nt" else os.O_RDONLY
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically. On an OSError the temporary file is removed and an
    :class:`AtomicWriteError` (:class:`DiskFullError` when the disk is full) is raised; the old file, if
    any, is untouched."""
    path = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise write_error(path, exc) from exc
    try:
        try:
            _write_all(fd, bytes(data))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and not isinstance(exc, AtomicWriteError):
            raise write_error(path, exc) from exc
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Atomically replace ``path`` with ``text`` (no newline translation: what you pass is what lands)."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: Path | str, obj: Any) -> None:
    """Atomically replace ``path`` with ``obj`` as indented UTF-8 JSON. Serialising happens first, so an
    unserialisable object raises before the disk is touched."""
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)


def atomic_copy_file(src: Path | str, dst: Path | str) -> None:
    """Copy ``src`` over ``dst`` atomically (streamed, so large adapter files are not held in memory)."""
    dst = Path(dst)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    except OSError as exc:
        raise write_error(dst, exc) from exc
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, dst)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError) and not isinstance(exc, AtomicWriteError):
            raise write_error(dst, exc) from exc
        raise
    fsync_dir(dst.parent)
