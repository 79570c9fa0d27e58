"""Messages out of a folder on the user's IMAP server, read-only, over TLS.

The folder is opened with EXAMINE (read-only) and every body is fetched with BODY.PEEK, which leaves the \\Seen flag
alone: nothing on the server changes. The From header of every message comes first, in batches; only the user's own
messages are then fetched whole. The certificate is checked against the system's trusted ones (``SSL_CERT_FILE``
names others, as everywhere OpenSSL is used). The password is used for the login and kept nowhere.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ditto_desk.core.errors import InputError, UsageError
from ditto_desk.core.importing.files import MAX_CONTAINER_BYTES
from ditto_desk.core.mailbox.reading import TOO_LARGE, RawMessage, ReadStats, progress_event
from ditto_desk.core.progress import CancelToken, ProgressCallback, ignore_progress

IMAPS_PORT = 993
TIMEOUT_S = 15.0  # connect, log in and each command: an unreachable server is said within this
_BATCH = 100  # messages whose headers one FETCH asks for
_FETCH_BYTES = 20_000_000  # whole messages one FETCH asks for, at most, together
_FETCHED = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class ImapFolder:
    user: str
    host: str
    port: int = IMAPS_PORT
    folder: str = "INBOX"

    def __str__(self) -> str:
        return f"imaps://{self.user}@{self.host}:{self.port}/{self.folder}"


def is_imap(source: str) -> bool:
    return source.lower().startswith(("imap://", "imaps://"))


def parse_imap_url(url: str) -> ImapFolder:
    """``imaps://user@host[:port]/Folder`` (the user name may be an address: ``me%40example.com`` or as is)."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "imap":
        raise UsageError("ditto-desk reads mail only over TLS: write imaps:// (port 993 unless you give another).")
    if parts.scheme.lower() != "imaps" or not parts.hostname or not parts.username:
        raise UsageError(f"{url!r} is not an IMAP folder: write imaps://you@mail.example.com/Sent")
    try:
        port = parts.port or IMAPS_PORT
    except ValueError as exc:
        raise UsageError(f"{url!r}: the port is not a number from 1 to 65535") from exc
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapFolder(unquote(parts.username), parts.hostname, port, folder)


def read_imap(
    folder: ImapFolder,
    password: str,
    wanted: Callable[[bytes], bool],
    stats: ReadStats,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> Iterator[RawMessage]:
    """Every message of ``folder``: the headers alone of those ``wanted`` refuses, the whole of the others."""
    cancel = cancel or CancelToken()
    with _Session(folder, password) as imap:
        try:
            yield from _messages(imap, folder, wanted, stats, progress, cancel)
        except (OSError, imaplib.IMAP4.error) as exc:  # a dropped connection, a timeout, a server that gave up
            raise InputError(
                f"The mail server {folder.host} stopped answering while its messages were read ({_reason(exc)}); "
                "nothing was added. Try again."
            ) from exc


def _messages(
    imap: imaplib.IMAP4_SSL,
    folder: ImapFolder,
    wanted: Callable[[bytes], bool],
    stats: ReadStats,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Iterator[RawMessage]:
    uids = _command("search", imap.uid("SEARCH", "ALL"))[0].split()
    for start in range(0, len(uids), _BATCH):
        cancel.raise_if_cancelled()
        batch = uids[start : start + _BATCH]
        progress(progress_event(f"Reading {folder.folder}:", start, len(uids), start))
        heads = _fetch(imap, batch, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])")
        whole = [uid for uid, (head, size) in heads.items() if wanted(head) and size <= MAX_CONTAINER_BYTES]
        bodies: dict[bytes, tuple[bytes, int]] = {}
        for group in _by_size(whole, {uid: heads[uid][1] for uid in whole}):
            bodies |= _fetch(imap, group, "(UID RFC822.SIZE BODY.PEEK[])")
        for uid in batch:
            stats.messages += 1
            head, size = heads.get(uid, (b"", 0))
            where = f"{folder.folder}, message {uid.decode()}"
            if wanted(head) and size > MAX_CONTAINER_BYTES:
                yield RawMessage(where, problem=TOO_LARGE)
            else:
                yield RawMessage(where, bodies[uid][0] if uid in bodies else head)
    progress(progress_event(f"Read {folder.folder}:", len(uids), len(uids), len(uids)))


def _by_size(uids: list[bytes], sizes: dict[bytes, int]) -> Iterator[list[bytes]]:
    """``uids`` in groups of at most _FETCH_BYTES together (one larger message alone): memory stays bounded."""
    group: list[bytes] = []
    total = 0
    for uid in uids:
        if group and total + sizes[uid] > _FETCH_BYTES:
            yield group
            group, total = [], 0
        group.append(uid)
        total += sizes[uid]
    if group:
        yield group


class _Session:
    """A logged-in, read-only IMAP connection, closed (logged out) however the read ends."""

    def __init__(self, folder: ImapFolder, password: str) -> None:
        self.folder, self.password = folder, password

    def __enter__(self) -> imaplib.IMAP4_SSL:
        where = f"{self.folder.host}:{self.folder.port}"
        try:
            imap = imaplib.IMAP4_SSL(
                self.folder.host, self.folder.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_S
            )
        except ssl.SSLCertVerificationError as exc:
            raise InputError(
                f"{where} did not show a certificate this computer trusts ({exc.verify_message}); nothing was read."
            ) from exc
        except (OSError, imaplib.IMAP4.error) as exc:  # refused, no such host, a timeout, not an IMAP server
            reason = "it did not answer in time" if isinstance(exc, socket.timeout) else _reason(exc)
            raise InputError(
                f"Could not reach the mail server {where}: {reason}. Check the address and the port."
            ) from exc
        self.imap = imap
        try:
            imap.login(self.folder.user, self.password)
        except imaplib.IMAP4.error as exc:
            self._close()
            raise InputError(
                f"{self.folder.host} refused the user name {self.folder.user!r} or its password ({_reason(exc)})."
            ) from exc
        except OSError as exc:
            self._close()
            raise InputError(f"The mail server {where} stopped answering: {_reason(exc)}.") from exc
        status, data = imap.select(_quoted(self.folder.folder), readonly=True)  # EXAMINE
        if status != "OK":
            folders = ", ".join(_folders(imap)) or "none listed"
            self._close()
            raise InputError(
                f"There is no folder {self.folder.folder!r} on {self.folder.host} ({_text(data)}); its folders: "
                f"{folders}."
            )
        return imap

    def __exit__(self, *_: object) -> None:
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):  # the connection is gone either way
            self.imap.logout()


def _fetch(imap: imaplib.IMAP4_SSL, uids: list[bytes], what: str) -> dict[bytes, tuple[bytes, int]]:
    """uid -> (the bytes fetched, the message's size) for ``uids``."""
    data = _command("fetch", imap.uid("FETCH", b",".join(uids).decode(), what))
    fetched: dict[bytes, tuple[bytes, int]] = {}
    for part in data:
        if isinstance(part, tuple) and len(part) == 2:
            uid, size = _FETCHED.search(part[0]), _SIZE.search(part[0])
            if uid:
                fetched[uid.group(1)] = (part[1], int(size.group(1)) if size else 0)
    return fetched


def _command(name: str, response: tuple[str, list[Any]]) -> list[Any]:
    status, data = response
    if status != "OK":
        raise InputError(f"The mail server refused to {name} the messages ({_text(data)}); nothing was changed.")
    return data


def _folders(imap: imaplib.IMAP4_SSL) -> list[str]:
    status, data = imap.list()
    names = []
    for line in data if status == "OK" else []:
        if isinstance(line, bytes):
            names.append(line.rsplit(b" ", 1)[-1].strip(b'"').decode("utf-8", "replace"))
    return names


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(data: list[Any]) -> str:
    return " ".join(d.decode("utf-8", "replace") if isinstance(d, bytes) else str(d) for d in data if d)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "no such server name"
    if isinstance(exc, ConnectionRefusedError):
        return "it refused the connection"
    text = exc.args[0] if exc.args else exc
    return (text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)) or type(exc).__name__
