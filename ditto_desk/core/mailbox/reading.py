"""Messages out of a mailbox on disk: an mbox file (Thunderbird, Apple Mail's export, Gmail's Takeout) or a Maildir
folder, one raw message at a time, in bounded memory, with progress and cancel.

The mbox is split here in one streaming pass, by hand: the stdlib's ``mailbox.mbox`` first scans the whole file for
its table of contents, with no progress and no way to stop, then seeks back for each message. A Maildir is the
folder of files in new/ and cur/, read, never moved or renamed (a rename is how Maildir flags a message).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ditto_desk.core.errors import InputError
from ditto_desk.core.importing.files import MAX_CONTAINER_BYTES
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress

# Progress is reported every this many bytes of an mbox (or messages of a Maildir), not for every message.
_PROGRESS_BYTES = 8_000_000
_PROGRESS_MESSAGES = 200
_MAX_LINE = 1_000_000
# mboxrd quotes a body line "From …" as ">From …" (mboxo did so too, losing the difference): one ">" goes.
_QUOTED_FROM = re.compile(rb"^>(>*From )")
TOO_LARGE = f"larger than {MAX_CONTAINER_BYTES // 1_000_000} MB with its attachments, so it was not read"


@dataclass(frozen=True)
class RawMessage:
    """One message as its bytes, where it came from ("Sent, message 12", or the Maildir file's key) and, for one too
    large to read or unreadable, why instead of its bytes."""

    where: str
    data: bytes = b""
    problem: str = ""


@dataclass
class ReadStats:
    """What a read saw beyond the messages: a mailbox that ends inside a message says so."""

    messages: int = 0
    truncated: bool = False


def is_mbox(path: Path) -> bool:
    """Whether ``path`` is a file that begins as an mbox does ("From " then a sender)."""
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def read_mailbox(
    path: Path,
    stats: ReadStats | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Iterator[RawMessage]:
    """Every message of the mbox file or Maildir folder at ``path``; refused (InputError) when it is neither."""
    stats = stats if stats is not None else ReadStats()
    cancel = cancel or CancelToken()
    if is_maildir(path):
        yield from _maildir(path, stats, progress, cancel)
        return
    try:
        info = path.stat()
    except OSError as exc:
        raise InputError(f"Could not read {path} ({exc.strerror or exc}).") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{path} is neither an mbox file nor a Maildir folder (a folder holding cur/ and new/): give the "
            "mailbox your mail program exports, or its Maildir folder."
        )
    if not is_mbox(path):
        raise InputError(
            f"{path} is not an mbox file (an mbox begins with a line 'From …'): export the folder from your mail "
            "program as mbox, or give its Maildir folder."
        )
    yield from _mbox(path, info.st_size, stats, progress, cancel)


def _mbox(
    path: Path, size: int, stats: ReadStats, progress: ProgressCallback, cancel: CancelToken
) -> Iterator[RawMessage]:
    lines: list[bytes] | None = None  # the message being read; None past the size cap (its bytes are dropped)
    kept = done = next_report = 0
    previous_blank = True
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"Could not read {path} ({exc.strerror or exc}).") from exc
    with handle:
        while line := handle.readline(_MAX_LINE):  # bounded: a file with no line breaks is read in pieces
            done += len(line)
            if previous_blank and line.startswith(b"From "):  # a new message begins
                if stats.messages:
                    yield _message(path, stats.messages, lines)
                stats.messages += 1
                lines, kept, previous_blank = [], 0, False
                if done >= next_report:
                    cancel.raise_if_cancelled()
                    progress(progress_event(f"Reading {path.name}:", done, size, stats.messages))
                    next_report = done + _PROGRESS_BYTES
                continue
            previous_blank = line in (b"\n", b"\r\n")
            if lines is None:
                continue
            kept += len(line)
            if kept > MAX_CONTAINER_BYTES:
                lines = None
            else:
                lines.append(_QUOTED_FROM.sub(rb"\1", line) if line.startswith(b">") else line)
    if stats.messages:
        stats.truncated = not previous_blank  # every message of an mbox ends with a blank line
        yield _message(path, stats.messages, lines)
    progress(progress_event(f"Read {path.name}:", size, size, stats.messages))


def _message(path: Path, number: int, lines: list[bytes] | None) -> RawMessage:
    where = f"{path.name}, message {number}"
    if lines is None:
        return RawMessage(where, problem=TOO_LARGE)
    return RawMessage(where, b"".join(lines))


def _maildir(path: Path, stats: ReadStats, progress: ProgressCallback, cancel: CancelToken) -> Iterator[RawMessage]:
    """A Maildir's messages are the files in its new/ and cur/ (names not starting with a dot), each read with
    a regular-file and size check first, so that a pipe or a device left there cannot stall the read."""
    files = []
    for sub in ("new", "cur"):
        try:
            files += sorted((e for e in os.scandir(path / sub) if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as exc:
            raise InputError(f"Could not read {path / sub} ({exc.strerror or exc}).") from exc
    for index, entry in enumerate(files):
        if index % _PROGRESS_MESSAGES == 0:
            cancel.raise_if_cancelled()
            progress(progress_event(f"Reading {path.name}:", index, len(files), index))
        stats.messages += 1
        where = f"{path.name}, {entry.name}"
        try:
            info = os.stat(entry.path, follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode):
                yield RawMessage(where, problem="not a regular file, so it was not read")
                continue
            if info.st_size > MAX_CONTAINER_BYTES:
                yield RawMessage(where, problem=TOO_LARGE)
                continue
            with open(entry.path, "rb") as handle:
                data = handle.read(MAX_CONTAINER_BYTES + 1)
        except OSError as exc:  # unreadable, or gone since the folder was listed
            yield RawMessage(where, problem=f"could not be read ({(exc.strerror or str(exc)).lower()})")
            continue
        yield RawMessage(where, problem=TOO_LARGE) if len(data) > MAX_CONTAINER_BYTES else RawMessage(where, data)
    progress(progress_event(f"Read {path.name}:", len(files), len(files), len(files)))


def progress_event(message: str, done: int, total: int, messages: int) -> ProgressEvent:
    """An event whose step counts percent, for a bar, and whose message counts the messages read."""
    fraction = min(done / total, 1.0) if total else 1.0
    text = f"{message} {messages:,} messages"
    return ProgressEvent(Phase.IMPORT, text, round(fraction * 100), 100, fraction=fraction)
