"""The visible text of an HTML page or HTML email, with its paragraph breaks kept.

lxml's HTML parser (libxml2, in C) reads the page and hands each tag and piece of text, as it goes, to the
small collector below; no tree is built. Time is linear and memory flat in the size of the page. What came
before, BeautifulSoup on stdlib html.parser, edited a tree with insert_before/insert_after, each linear
in the number of siblings, so 40,000 empty paragraphs took 85 s; and html.parser itself (Python 3.11) is
quadratic on some broken markup ("<a<a<a...": minutes for a megabyte). lxml comes with python-docx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lxml import etree

from ditto_desk.core.errors import Refused

# Far more than any email or article has (a long news or encyclopedia page: some tens of thousands); a page
# takes a few microseconds per element, so this bounds its time.
MAX_ELEMENTS = 100_000

_BLOCK_TAGS = frozenset(
    (  # noqa: SIM905 - a word list reads better than one tag per line
        "address article aside blockquote caption center dd details div dl dt fieldset figcaption figure "
        "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table ul"
    ).split()
)
# A table reads row by row: each row a line, its cells apart by " | " (a cell as a paragraph of its own made a
# table of twenty cells twenty paragraphs of one word).
_ROW_TAGS, _CELL_TAGS = frozenset({"tr"}), frozenset({"td", "th"})
CELL_SEPARATOR = " | "
_INVISIBLE_TAGS = frozenset(
    "script style head title noscript template svg object iframe".split()  # noqa: SIM905
)
# In mail: signatures that HTML clients mark only by class (Gmail's and Thunderbird's), and Yahoo's quoted
# original, which it wraps in a div rather than a blockquote.
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_QUOTE_CLASSES = frozenset({"yahoo_quoted"})
_SPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")

_HIDDEN, _PRE, _QUOTE, _BLOCK = 1, 2, 4, 8
_SLICE = 1 << 16


def html_to_text(html: str, mark_quotes: bool = False) -> str:
    """The visible text of an HTML page: paragraphs apart by a blank line, ``<br>`` a line break.

    ``mark_quotes`` (for mail) writes quoted replies (blockquote elements) as "> " lines, the way plain-text
    mail quotes them, so that mail_body can keep the author's own paragraphs between the quotes and drop the
    quotes and the attribution above them. It also drops signatures that clients mark only by class.
    Refused when the page holds more than MAX_ELEMENTS elements.
    """
    collector = _TextCollector(mark_quotes)
    parser = etree.HTMLParser(target=collector, encoding="utf-8", no_network=True)
    # Given as UTF-8 bytes with the encoding named, so a <meta charset> in the page cannot re-decode text
    # that the importer has already decoded; in slices, so that a refusal stops the parser soon.
    data = html.encode("utf-8", "replace")
    try:
        for start in range(0, len(data), _SLICE):
            parser.feed(data[start : start + _SLICE])
        parser.close()
    except etree.LxmlError:
        pass  # libxml2 reads HTML in recovery mode; when it still gives up (an empty page), keep what it read
    collector.close()  # again, if the parser stopped before it could: text still pending is kept
    lines = [line.strip() for line in "".join(collector.parts).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class _TextCollector:
    """An lxml parser target: gathers visible text and breaks. libxml2 balances the events it sends (every
    start has its end, implied and unclosed tags included), so a stack of flags tracks where the text is.
    Breaks are held back until text follows, so empty elements by the thousand add nothing."""

    def __init__(self, mark_quotes: bool) -> None:
        self.mark_quotes = mark_quotes
        self.parts: list[str] = []
        self.pending: list[str] = []  # text since the last tag: entities and such arrive in many pieces
        self.flags: list[int] = []
        self.hidden = self.pre = self.quote = 0  # how many open elements hide / preformat / quote the text
        self.elements = 0
        self.newlines = 0  # line breaks owed before the next text: 1 after a <br>, 2 (a blank line) at most
        self.line_start = True
        self.row_written = False  # the table row under way has text: the next cell's text is set apart
        self.cell_owed = False

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if self.pending:
            self._flush()
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise Refused(
                f"too much markup: more than {MAX_ELEMENTS:,} HTML elements — a demonstration is one email or "
                "post, so copy its text and paste it instead"
            )
        flags = 0
        classes = frozenset(attrib.get("class", "").split()) if self.mark_quotes and "class" in attrib else ()
        if tag in _INVISIBLE_TAGS or (classes and not _SIGNATURE_CLASSES.isdisjoint(classes)):
            flags |= _HIDDEN
            self.hidden += 1
        if tag == "pre":
            flags |= _PRE
            self.pre += 1
        if tag in _BLOCK_TAGS:
            flags |= _BLOCK
        if self.mark_quotes and (tag == "blockquote" or (classes and not _QUOTE_CLASSES.isdisjoint(classes))):
            flags |= _QUOTE | _BLOCK
            self.quote += 1
        if flags & _BLOCK:
            self.newlines = 2
        elif tag == "br" and not self.hidden:
            self.newlines = min(self.newlines + 1, 2)
        elif tag in _ROW_TAGS:
            self.newlines = max(self.newlines, 1)
            self.row_written = self.cell_owed = False
        elif tag in _CELL_TAGS:
            self.cell_owed = self.row_written
        self.flags.append(flags)

    def end(self, tag: str) -> None:
        if self.pending:
            self._flush()
        flags = self.flags.pop() if self.flags else 0
        if flags & _QUOTE:
            self.quote -= 1
        if flags & _BLOCK:
            self.newlines = 2
        if flags & _HIDDEN:
            self.hidden -= 1
        if flags & _PRE:
            self.pre -= 1

    def data(self, text: str) -> None:
        if not self.hidden:
            self.pending.append(text)

    def close(self) -> None:
        if self.pending:
            self._flush()

    def _flush(self) -> None:
        text = self.pending[0] if len(self.pending) == 1 else "".join(self.pending)
        self.pending.clear()
        if not self.pre:
            # Line breaks in HTML source are just spaces; the layout comes from the tags.
            text = _SPACE.sub(" ", text)
            if text == " " and (self.newlines or self.line_start):
                return  # would only begin a line, and lines are stripped
        if not text:
            return
        if self.newlines:
            self.parts.append("\n" * self.newlines)
            self.newlines = 0
            self.line_start = True
        elif self.cell_owed:
            text = CELL_SEPARATOR + text.lstrip()
        self.cell_owed = False
        self.row_written = True
        if self.quote:
            # Quoted text as plain-text mail writes it: every line begins with "> ".
            text = text.replace("\n", "\n> ")
            if self.line_start:
                text = "> " + text
            self.line_start = False
        else:
            self.line_start = text.endswith("\n")
        self.parts.append(text)
