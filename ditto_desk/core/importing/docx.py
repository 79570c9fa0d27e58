"""The text of a Word (.docx) document: its paragraphs, a blank line apart.

A .docx is a zip. Its directory is checked first, before anything is unpacked: a 3 MB file can hold
gigabytes of XML (a zip bomb), and python-docx read every part whole, then built a tree of the document at
some 300 bytes an element (a 3 MB document.xml took 190 MB) and a Python object per paragraph (5 s for
500,000 empty ones). So the main document part alone is streamed through lxml's XML parser (C; the parser
python-docx uses) into the small collector below, which keeps only the text: memory stays flat and time
linear. The text rules are python-docx's (runs' w:t, tabs, line breaks, no-break hyphens), applied to every
paragraph of the body, tables and text boxes included.
"""

from __future__ import annotations

import lzma
import posixpath
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

from lxml import etree

from ditto_desk.core.errors import Refused

MAX_ENTRIES = 5_000  # files inside the zip; a document with hundreds of images has hundreds
MAX_UNPACKED_BYTES = 200_000_000  # all of them together, as the zip directory declares them
MAX_DOCUMENT_XML_BYTES = 25_000_000  # the main document part (a 300-page book is some 10 MB)
# Word's XML compresses some 5 to 30 times, deflate at most some 1,000 times: a part compressed beyond 500
# times is a zip made to overload its reader (the size limits bound the rest).
MAX_RATIO = 500
RATIO_CHECKED_FROM = 1_000_000  # tiny parts may compress far better, harmlessly
# Elements in the main document part (a 20-page letter has some 50,000): bounds the time spent reading it.
MAX_ELEMENTS = 300_000

_W_NAMESPACES = frozenset(
    {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
        "http://purl.oclc.org/ooxml/wordprocessingml/main",  # "Strict Open XML", as Word can save
    }
)
# mc:Fallback repeats a text box for older readers; w:moveFrom is text that also appears where it moved to.
_SKIPPED = frozenset(
    {
        "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}moveFrom",
    }
)
_RUN_TEXT = {"tab": "\t", "ptab": "\t", "cr": "\n", "noBreakHyphen": "-"}
# The elements the collector acts on, by lxml's "{namespace}name": one dictionary look-up per element.
_KINDS = {f"{{{ns}}}{name}": name for ns in _W_NAMESPACES for name in ("p", "r", "t", "br", *_RUN_TEXT)}
_BREAK_TYPES = tuple(f"{{{ns}}}type" for ns in _W_NAMESPACES)
_OFFICE_DOCUMENT = "/officeDocument"  # the end of the relationship type that names the main part
_DAMAGED = "not a readable Word document (the file may be damaged); open and save it again in Word, or paste the text"
_PASTE = "copy the part you wrote and paste it instead"
# What a damaged zip or XML raises: zipfile's own errors, a decompressor's (zlib.error; bz2 and lzma raise
# OSError and LZMAError), a truncated file (EOFError), an unknown compression method (NotImplementedError),
# an encrypted entry (RuntimeError), a bad offset (ValueError), and lxml's.
_DAMAGED_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    etree.LxmlError,
)


def docx_text(path: Path) -> str:
    """The document's non-empty paragraphs, stripped, a blank line apart."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise Refused(f"could not read: {error.strerror.lower() if error.strerror else error}") from error
    try:
        with handle, zipfile.ZipFile(handle) as archive:
            document = _main_part(archive)
            paragraphs = _paragraphs(archive, document)
    except _DAMAGED_ZIP as error:
        raise Refused(_DAMAGED) from error
    return "\n\n".join(text.strip() for text in paragraphs if text.strip())


def _main_part(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The main document part's directory entry, once the directory shows nothing unreasonable."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise Refused(f"not a Word document as Word writes them: it holds {len(entries):,} files; {_PASTE}")
    unpacked = sum(entry.file_size for entry in entries)
    packed = max(1, sum(entry.compress_size for entry in entries))
    bomb = any(
        entry.file_size > RATIO_CHECKED_FROM and entry.file_size > MAX_RATIO * max(1, entry.compress_size)
        for entry in entries
    )
    if unpacked > MAX_UNPACKED_BYTES or bomb:
        raise Refused(
            f"this file would unpack to {_size(unpacked)} from {_size(packed)}, far beyond any real Word document; "
            f"it is damaged or made to overload programs — {_PASTE}"
        )
    name = _main_part_name(archive)
    try:
        document = archive.getinfo(name)
    except KeyError as error:
        raise Refused(_DAMAGED) from error
    if document.file_size > MAX_DOCUMENT_XML_BYTES:
        raise Refused(
            f"too long: the document's text and layout take {_size(document.file_size)}, the limit is "
            f"{_size(MAX_DOCUMENT_XML_BYTES)} — a demonstration is one email or post; {_PASTE}"
        )
    return document


def _main_part_name(archive: zipfile.ZipFile) -> str:
    """Where the package's relationships say the document is; word/document.xml, as Word writes it, if they
    do not say."""
    try:
        rels = archive.getinfo("_rels/.rels")
    except KeyError:
        return "word/document.xml"
    if rels.file_size > 1_000_000:
        raise Refused(_DAMAGED)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(archive.read(rels), parser)
    for relation in root:
        if str(relation.get("Type", "")).endswith(_OFFICE_DOCUMENT) and relation.get("TargetMode") != "External":
            return posixpath.normpath(str(relation.get("Target", "")).lstrip("/"))
    return "word/document.xml"


def _paragraphs(archive: zipfile.ZipFile, document: zipfile.ZipInfo) -> list[str]:
    collector = _ParagraphCollector()
    parser = etree.XMLParser(target=collector, resolve_entities=False, no_network=True, load_dtd=False)
    # zipfile never unpacks more than the size the directory declares (checked above).
    with archive.open(document) as stream:
        while chunk := stream.read(1 << 16):
            parser.feed(chunk)
    parser.close()
    return collector.paragraphs


class _ParagraphCollector:
    """An lxml parser target: the text of each w:p, as python-docx reads a paragraph's runs."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.open: list[list[str]] = []  # the paragraphs being read; a text box's sit inside another's
        self.elements = 0
        self.in_run = self.in_text = self.skipped = 0

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise Refused(
                f"too long: the document has more than {MAX_ELEMENTS:,} parts of text and layout — a "
                f"demonstration is one email or post; {_PASTE}"
            )
        kind = _KINDS.get(tag)
        if kind is None:
            if tag in _SKIPPED:
                self.skipped += 1
            return
        if self.skipped:
            return
        if kind == "p":
            self.open.append([])
        elif kind == "r":
            self.in_run += 1
        elif kind == "t":
            self.in_text += 1
        elif self.in_run and self.open:
            if kind == "br":
                kind = next((attrib[key] for key in _BREAK_TYPES if key in attrib), "textWrapping")
                self.open[-1].append("\n" if kind == "textWrapping" else "")  # page and column breaks: nothing
            else:
                self.open[-1].append(_RUN_TEXT[kind])

    def end(self, tag: str) -> None:
        kind = _KINDS.get(tag)
        if kind is None:
            if tag in _SKIPPED:
                self.skipped -= 1
            return
        if self.skipped:
            return
        if kind == "p" and self.open:
            self.paragraphs.append("".join(self.open.pop()))
        elif kind == "r" and self.in_run:
            self.in_run -= 1
        elif kind == "t" and self.in_text:
            self.in_text -= 1

    def data(self, text: str) -> None:
        if self.in_text and self.in_run and self.open and not self.skipped:
            self.open[-1].append(text)

    def close(self) -> None:
        return None


def _size(size: int) -> str:
    if size >= 10_000_000:
        return f"{size / 1_000_000:,.0f} MB"
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"
