"""Import demonstrations from pasted text and from files (.txt, .md, .eml, .html, .docx), and read the message a
user answers from either.

Every input ends as either one Demonstration or one Refusal with a reason the user can act on; one
bad file never stops the others. Pure Python, no Qt. Each format's text comes from a module of its own
(html_text, read_eml, docx_text; text_decoding for bytes), each bounded in time and memory by limits of
its own on top of the file sizes here: benchmarks/bench_import_adversarial.py measures them.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ditto_desk.core.errors import Refused as _Refused
from ditto_desk.core.importing.cleaning import drop_controls, looks_binary, split_front_matter, strip_terminal_codes
from ditto_desk.core.importing.decoding import decode_text
from ditto_desk.core.importing.docx import docx_text
from ditto_desk.core.importing.eml import Email, read_eml
from ditto_desk.core.importing.html import html_to_text
from ditto_desk.core.importing.reasons import BINARY, SUPPORTED, too_large
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.mail import Reply, split_reply
from ditto_desk.core.texts.prompts import derive_prompt
from ditto_desk.core.texts.replies import MAX_CONTEXT_CHARS, nearest_chars
from ditto_desk.core.texts.words import count_words

# Plain-text files: a demonstration is an email or a post, so 1 MB is already far more than enough.
MAX_FILE_BYTES = 1_000_000
# Emails, Word documents and web pages carry attachments, images and markup we throw away, so their
# files may be bigger; the text kept is capped by MAX_TEXT_CHARS all the same.
MAX_CONTAINER_BYTES = 10_000_000
MAX_TEXT_CHARS = 20_000
MIN_WORDS = 5
# An mbox's "From " line, which begins each message: "From sender Sat Sep 14 11:02:03 2002".
_MBOX_FROM = rb"From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{1,2}:\d\d"
_MAILBOX = re.compile(_MBOX_FROM + rb".*?\r?\n\r?\n" + _MBOX_FROM, re.DOTALL)

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ""})
HTML_SUFFIXES = frozenset({".html", ".htm"})
# Formats people commonly try, with what to do instead.
_UNSUPPORTED_HINTS = {
    ".doc": "the old Word .doc format is not supported; save it as .docx in Word, or paste the text",
    ".pdf": "PDF files are not supported; copy the text out of the PDF and paste it instead",
    ".msg": "Outlook .msg files are not supported; save the email as .eml, or paste the text",
    ".rtf": "RTF files are not supported; save it as .docx or .txt, or paste the text",
    ".odt": "OpenDocument files are not supported; save it as .docx or .txt, or paste the text",
}


class TooShort(_Refused):
    """A text refused for holding too few words."""


@dataclass
class Refusal:
    """An input that was not imported, and a user-facing sentence saying why and what to do."""

    source: str
    reason: str


@dataclass
class ImportResult:
    demonstrations: list[Demonstration] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def import_text(text: str, source: str = "pasted") -> ImportResult:
    """Import one pasted text as a demonstration, its prompt derived from the text."""
    result = ImportResult()
    try:
        result.demonstrations.append(_demonstration(text, source, empty_reason="the text is empty"))
    except _Refused as refused:
        result.refused.append(Refusal(source, refused.reason))
    except Exception as error:  # noqa: BLE001 - whatever was pasted, the caller gets a result
        result.refused.append(Refusal(source, f"could not import this text ({type(error).__name__})"))
    return result


def import_paths(
    paths: Iterable[str | Path], progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
) -> ImportResult:
    """Import files and folders (a folder: its files, recursively, sorted, hidden ones skipped, links that
    lead out of it refused).

    Each file gives one demonstration or one refusal; the same file named twice is imported once.
    ``progress`` hears of each file before it is read; ``cancel`` is checked between files.
    """
    result = ImportResult()
    seen: set[str] = set()
    files = _expand(paths, result.refused)
    for index, path in enumerate(files):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(ProgressEvent(Phase.IMPORT, f"Reading {path.name}…", index, len(files), fraction=index / len(files)))
        source = str(path)
        try:
            key = os.path.normcase(os.path.abspath(path))
            if key in seen:
                continue
            seen.add(key)
            result.demonstrations.append(_import_file(path))
        except _Refused as refused:
            result.refused.append(Refusal(source, refused.reason))
        except Exception as error:  # noqa: BLE001 - one broken file must never stop the others
            result.refused.append(Refusal(source, f"could not import this file ({type(error).__name__})"))
    return result


def _expand(paths: Iterable[str | Path], refused: list[Refusal]) -> list[Path]:
    """Files to import, in order; folders expanded, problems with the paths themselves refused."""
    files: list[Path] = []
    for raw in paths:
        try:
            _expand_one(Path(raw), files, refused)
        except Exception as error:  # noqa: BLE001 - a bad path must not stop the others
            refused.append(Refusal(str(raw), f"could not read: {error}"))
    return files


def _expand_one(path: Path, files: list[Path], refused: list[Refusal]) -> None:
    if path.is_dir():
        found: list[Path] = []

        def on_error(error: OSError) -> None:
            refused.append(Refusal(str(error.filename or path), f"could not read: {_os_reason(error)}"))

        folder, refused_before = os.path.realpath(path), len(refused)
        for root, dirs, names in os.walk(path, onerror=on_error):  # links to folders are not walked into
            dirs[:] = [d for d in dirs if not _is_hidden(d) and not _leaves(Path(root, d), folder, refused)]
            files_here = (Path(root, n) for n in names if not _is_hidden(n))
            found.extend(file for file in files_here if not _leaves(file, folder, refused))
        if not found and len(refused) == refused_before:
            refused.append(Refusal(str(path), "this folder has no files to import"))
        files.extend(sorted(found))
    elif path.exists() or path.is_symlink():
        files.append(path)
    else:
        refused.append(Refusal(str(path), "not found: there is no such file or folder"))


def _leaves(path: Path, folder: str, refused: list[Refusal]) -> bool:
    """Whether ``path``, found in the dropped ``folder`` (resolved), is a link that leads out of it; refused if
    so. A folder dropped whole must bring in only what is in it, not /etc/passwd or another disk."""
    if not path.is_symlink():
        return False
    target = os.path.realpath(path)
    try:
        if os.path.commonpath([target, folder]) == folder:
            return False
    except ValueError:  # on another drive (Windows)
        pass
    refused.append(
        Refusal(
            str(path),
            f"not imported: a link to {target}, outside the folder you chose; links out of a dropped folder are "
            "not followed — add that file itself if you mean to import it",
        )
    )
    return True


def _is_hidden(name: str) -> bool:
    # "~$..." are Office lock files, left beside open documents; they are not the user's writing.
    return name.startswith((".", "~$"))


@dataclass(frozen=True)
class IncomingMessage:
    """A message the user answers: its sender's own words (what it quotes and its signature dropped), the
    sender's name and its subject where the file says them."""

    text: str
    sender: str = ""
    subject: str | None = None


def pasted_message(text: str) -> IncomingMessage:
    """A pasted message to answer; refused when it holds no words."""
    return _incoming(text, "the message is empty: paste the email you are answering")


def read_plain_text(path: str | Path) -> str:
    """A text file's text, in any encoding the importers read; refused, with why, when it is not a regular file
    (a pipe or a device would never end), is empty, over 1 MB or binary."""
    path = Path(path)
    _check_file(path, MAX_FILE_BYTES)
    text = decode_text(_read(path, MAX_FILE_BYTES))
    if looks_binary(text):
        raise _Refused(BINARY)
    return text


def read_message(path: str | Path) -> IncomingMessage:
    """The message to answer in a file (any format the importer reads); refused, with why, like an import."""
    text, subject, email = _file_text(Path(path))
    if email is not None:
        return IncomingMessage(_incoming(email.reply.own, "").text, email.sender, subject)
    return IncomingMessage(_incoming(text, "this file holds no text").text, subject=subject)


def _incoming(text: str, empty_reason: str) -> IncomingMessage:
    text = drop_controls(strip_terminal_codes(text.replace("\r\n", "\n").replace("\r", "\n"))).strip()
    if looks_binary(text):
        raise _Refused(BINARY)
    own = split_reply(text).own or text  # a pasted message may carry the thread it answered
    if not _has_words(own):
        raise _Refused(empty_reason or _NO_WORDS)
    return IncomingMessage(nearest_chars(own, MAX_CONTEXT_CHARS, from_start=False))


_NO_WORDS = "nothing left after removing quoted replies and the signature"


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


def _import_file(path: Path) -> Demonstration:
    text, subject, email = _file_text(path)
    return _demonstration(text, str(path), subject=subject, reply=email.reply if email is not None else None)


def import_email(data: bytes, source: str) -> Demonstration:
    """One email's bytes (a mailbox's message) as a demonstration, checked as an imported .eml file is."""
    email = read_eml(data)
    return _demonstration(email.reply.own, source, subject=email.subject, reply=email.reply)


def _file_text(path: Path) -> tuple[str, str | None, Email | None]:
    """A file's text (for an email: the sender's own words), the email's subject, and the email taken apart."""
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES | {".eml", ".docx"}:
        raise _Refused(_UNSUPPORTED_HINTS.get(suffix, f"unsupported file type {suffix}; use {SUPPORTED}"))
    limit = MAX_FILE_BYTES if suffix in TEXT_SUFFIXES else MAX_CONTAINER_BYTES
    _check_file(path, limit)
    if suffix == ".docx":
        return docx_text(path), None, None
    data = _read(path, limit)
    if _MAILBOX.match(data):
        raise _Refused(
            "this file is a mailbox holding several emails (an mbox); add it with 'From a mailbox…' on the Texts "
            "page, or `ditto-desk profiles add-mail`, which picks your own best emails from it"
        )
    if suffix == ".eml":
        email = read_eml(data)
        return email.reply.own, email.subject, email
    if suffix in HTML_SUFFIXES:
        return html_to_text(decode_text(data)), None, None
    text, title = split_front_matter(decode_text(data).lstrip("\ufeff"))  # a post's title, not part of its words
    return text, title, None


def _check_file(path: Path, limit: int) -> None:
    """Refuse what is not a regular file of 1 to ``limit`` bytes: reading a pipe or a device would block or never
    end."""
    try:
        info = path.stat()
    except OSError as error:
        raise _Refused(f"could not read: {_os_reason(error)}") from error
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("not a regular file")
    if info.st_size > limit:
        raise _Refused(too_large(info.st_size, limit))
    if info.st_size == 0:
        raise _Refused("empty file")


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as error:
        raise _Refused(f"could not read: {_os_reason(error)}") from error
    if len(data) > limit:
        raise _Refused(too_large(len(data), limit))
    if not data:
        raise _Refused("empty file")
    return data


def _demonstration(
    text: str,
    source: str,
    subject: str | None = None,
    empty_reason: str = "contains no text",
    reply: Reply | None = None,
) -> Demonstration:
    """Check and clean extracted text, and wrap it with its derived prompt and the message it replies to."""
    # Coloured terminal or log output: the escape codes go, the words stay.
    text = strip_terminal_codes(text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", ""))
    if not text.strip():
        raise _Refused(empty_reason)
    if looks_binary(text):
        raise _Refused(BINARY)
    # The few stray control characters left would only be noise in training data.
    text = drop_controls(text).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise _Refused(
            f"too long: {len(text):,} characters, the limit is {MAX_TEXT_CHARS:,} — a demonstration is "
            "one email or post, so paste an excerpt instead"
        )
    words = count_words(text)
    if words < MIN_WORDS:
        raise TooShort(
            f"too short to learn from ({words} word{'' if words == 1 else 's'}); "
            f"use a whole email or post of at least {MIN_WORDS} words"
        )
    demo = Demonstration(text=text, prompt=derive_prompt(text, subject=subject), source=source)
    if reply is None:
        return demo
    context = drop_controls(strip_terminal_codes(reply.quoted)).strip()
    if context and not looks_binary(context):
        demo.context = nearest_chars(context, MAX_CONTEXT_CHARS, from_start=reply.quoted_below)
        demo.context_sender, demo.context_below = reply.sender, reply.quoted_below
    return demo


def _os_reason(error: OSError) -> str:
    return error.strerror.lower() if error.strerror else str(error)
