"""Import demonstrations from pasted text and from files (.txt, .md, .eml, .html, .docx).

Every input ends as either one Demonstration or one Refusal with a reason the user can act on; one
bad file never stops the others. Pure Python, no Qt.
"""

from __future__ import annotations

import codecs
import email
import os
import re
import stat
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from ditto_desk.core.demos import Demonstration
from ditto_desk.core.mail_body import strip_quotes_and_signature
from ditto_desk.core.progress import CancelToken, ProgressCallback, ProgressEvent, ignore_progress
from ditto_desk.core.prompts import derive_prompt
from ditto_desk.core.text_decoding import legacy_decode, utf16_without_bom

# Plain-text files: a demonstration is an email or a post, so 1 MB is already far more than enough.
MAX_FILE_BYTES = 1_000_000
# Emails, Word documents and web pages carry attachments, images and markup we throw away, so their
# files may be bigger; the text kept is capped by MAX_TEXT_CHARS all the same.
MAX_CONTAINER_BYTES = 10_000_000
MAX_TEXT_CHARS = 20_000
MIN_WORDS = 5
# Share of control characters above which decoded "text" is taken for binary data.
MAX_CONTROL_SHARE = 0.01

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ""})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED = ".txt, .md, .eml, .html or .docx"
# Formats people commonly try, with what to do instead.
_UNSUPPORTED_HINTS = {
    ".doc": "the old Word .doc format is not supported; save it as .docx in Word, or paste the text",
    ".pdf": "PDF files are not supported; copy the text out of the PDF and paste it instead",
    ".msg": "Outlook .msg files are not supported; save the email as .eml, or paste the text",
    ".rtf": "RTF files are not supported; save it as .docx or .txt, or paste the text",
    ".odt": "OpenDocument files are not supported; save it as .docx or .txt, or paste the text",
}

_BLOCK_TAGS = frozenset(
    (  # noqa: SIM905 - a word list reads better than one tag per line
        "address article aside blockquote dd div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 "
        "h5 h6 header hr li main nav ol p pre section table tbody td th thead tfoot tr ul"
    ).split()
)
_INVISIBLE_TAGS = ["script", "style", "head", "title", "noscript", "template", "svg", "object", "iframe"]


@dataclass
class Refusal:
    """An input that was not imported, and a user-facing sentence saying why and what to do."""

    source: str
    reason: str


@dataclass
class ImportResult:
    demonstrations: list[Demonstration] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


class _Refused(Exception):
    """Raised inside a single file's import to refuse it with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    """Import files and folders (a folder: its files, recursively, sorted, hidden ones skipped).

    Each file gives one demonstration or one refusal; the same file named twice is imported once.
    ``progress`` hears of each file before it is read; ``cancel`` is checked between files.
    """
    result = ImportResult()
    seen: set[str] = set()
    files = _expand(paths, result.refused)
    for index, path in enumerate(files):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(ProgressEvent("import", f"Reading {path.name}…", index, len(files), fraction=index / len(files)))
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

        for root, dirs, names in os.walk(path, onerror=on_error):
            dirs[:] = [d for d in dirs if not _is_hidden(d)]
            found.extend(Path(root, n) for n in names if not _is_hidden(n))
        if not found:
            refused.append(Refusal(str(path), "this folder has no files to import"))
        files.extend(sorted(found))
    elif path.exists() or path.is_symlink():
        files.append(path)
    else:
        refused.append(Refusal(str(path), "not found: there is no such file or folder"))


def _is_hidden(name: str) -> bool:
    # "~$..." are Office lock files, left beside open documents; they are not the user's writing.
    return name.startswith((".", "~$"))


def _import_file(path: Path) -> Demonstration:
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES | {".eml", ".docx"}:
        raise _Refused(_UNSUPPORTED_HINTS.get(suffix, f"unsupported file type {suffix}; use {SUPPORTED}"))
    try:
        info = path.stat()
    except OSError as error:
        raise _Refused(f"could not read: {_os_reason(error)}") from error
    # Reading a pipe or a device would block or never end.
    if not stat.S_ISREG(info.st_mode):
        raise _Refused("not a regular file")
    limit = MAX_FILE_BYTES if suffix in TEXT_SUFFIXES else MAX_CONTAINER_BYTES
    if info.st_size > limit:
        raise _Refused(_too_large(info.st_size, limit))
    if info.st_size == 0:
        raise _Refused("empty file")

    subject: str | None = None
    if suffix == ".docx":
        text = _docx_text(path)
    else:
        data = _read(path, limit)
        if suffix == ".eml":
            text, subject = _eml_text(data)
        elif suffix in HTML_SUFFIXES:
            text = html_to_text(_decode(data))
        else:
            text = _decode(data)
    return _demonstration(text, str(path), subject=subject)


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as error:
        raise _Refused(f"could not read: {_os_reason(error)}") from error
    if len(data) > limit:
        raise _Refused(_too_large(len(data), limit))
    if not data:
        raise _Refused("empty file")
    return data


def _demonstration(
    text: str, source: str, subject: str | None = None, empty_reason: str = "contains no text"
) -> Demonstration:
    """Check and clean extracted text, and wrap it with its derived prompt."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    if not text.strip():
        raise _Refused(empty_reason)
    if _looks_binary(text):
        raise _Refused(f"looks binary (not text); use {SUPPORTED} files")
    # The few stray control characters left would only be noise in training data.
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc").strip()
    if len(text) > MAX_TEXT_CHARS:
        raise _Refused(
            f"too long: {len(text):,} characters, the limit is {MAX_TEXT_CHARS:,} — a demonstration is "
            "one email or post, so paste an excerpt instead"
        )
    words = len(text.split())
    if words < MIN_WORDS:
        raise _Refused(
            f"too short to learn from ({words} word{'' if words == 1 else 's'}); "
            f"use a whole email or post of at least {MIN_WORDS} words"
        )
    return Demonstration(text=text, prompt=derive_prompt(text, subject=subject), source=source)


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for c in text if c not in "\n\t\f\v" and unicodedata.category(c) == "Cc")
    return controls > MAX_CONTROL_SHARE * len(text)


# --- decoding --------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """Bytes to text: BOMs first, then UTF-8, then charset detection; refused if none fits."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16 LE's
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise _Refused(_UNDECODABLE) from error
    if b"\x00" in data:
        # Text never holds NUL bytes, except UTF-16 saved without a BOM.
        text = utf16_without_bom(data)
        if text is None:
            raise _Refused(f"looks binary (not text); use {SUPPORTED} files")
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = legacy_decode(data)
    if text is None:
        raise _Refused(_UNDECODABLE)
    return text


_UNDECODABLE = "could not work out the text encoding; save the file as UTF-8 and try again"


# --- formats ---------------------------------------------------------------------------------------


def html_to_text(html: str, drop_quotes: bool = False) -> str:
    """The visible text of an HTML page, with paragraph breaks kept.

    ``drop_quotes`` also removes quoted replies, which HTML mail wraps in blockquote elements.
    """
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
    from bs4.element import NavigableString

    with warnings.catch_warnings():
        # A short text looks like a file name or URL to bs4; it is still our markup to parse.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_INVISIBLE_TAGS):
        tag.decompose()
    if drop_quotes:
        for tag in soup.find_all("blockquote") + soup.find_all(class_=["gmail_quote", "moz-cite-prefix"]):
            if not getattr(tag, "decomposed", False):
                tag.decompose()
    for string in list(soup.find_all(string=True)):
        if type(string) is not NavigableString:  # comments, doctypes, CDATA: not visible
            string.extract()
        elif string.find_parent("pre") is None:
            # Line breaks in HTML source are just spaces; the layout comes from the tags.
            string.replace_with(re.sub(r"\s+", " ", str(string)))
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    lines = [line.strip() for line in soup.get_text().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _eml_text(data: bytes) -> tuple[str, str | None]:
    """The sender's own words in an email (quotes and signature removed), and its subject."""
    message = email.message_from_bytes(data, policy=policy.default)
    try:
        subject = str(message.get("subject") or "") or None
    except Exception:  # noqa: BLE001 - a malformed header loses us the subject, not the email
        subject = None
    body = message.get_body(preferencelist=("plain", "html")) if isinstance(message, EmailMessage) else None
    if body is None:
        raise _Refused("no text found in this email; export it again as .eml, or paste the text")
    payload = body.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload.strip():
        raise _Refused("no text found in this email; export it again as .eml, or paste the text")
    text = _decode_part(payload, body.get_content_charset())
    if body.get_content_subtype() == "html":
        text = html_to_text(text, drop_quotes=True)
    own = strip_quotes_and_signature(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not own.strip():
        raise _Refused("nothing left after removing quoted replies and the signature")
    return own, subject


def _decode_part(payload: bytes, charset: str | None) -> str:
    # The declared charset is often missing or wrong; fall back to detection rather than mangle it.
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return _decode(payload)


def _docx_text(path: Path) -> str:
    import docx  # python-docx

    try:
        document = docx.Document(str(path))
        return "\n\n".join(p.text.strip() for p in document.paragraphs if p.text.strip())
    except OSError as error:
        raise _Refused(f"could not read: {_os_reason(error)}") from error
    except Exception as error:  # noqa: BLE001 - python-docx raises many kinds on a damaged file
        raise _Refused(
            "not a readable Word document (the file may be damaged); open and save it again in Word, or paste the text"
        ) from error


def _os_reason(error: OSError) -> str:
    return error.strerror.lower() if error.strerror else str(error)


def _too_large(size: int, limit: int) -> str:
    shown = f"{size / 1_000_000:.1f} MB"
    if shown == f"{limit / 1_000_000:.1f} MB":  # "1.0 MB, the limit is 1 MB" would read as a bug
        shown = f"{size:,} bytes"
    return f"too large: {shown}, the limit is {limit / 1_000_000:g} MB — paste an excerpt instead"
