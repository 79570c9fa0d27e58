"""An email body in its sender's own words: quotes, attributions, signatures and footers removed.

Pure string work on the plain-text body (importers.py decodes the message first): the importer uses it
to keep what the user wrote, the evaluation to judge texts without their signatures and reply headers.
"""

from __future__ import annotations

import re

_SIGNATURE_SEPARATORS = frozenset({"-- ", "--"})
_ORIGINAL_MESSAGE = re.compile(r"^-{2,}\s*(?:original message|forwarded message)\s*-{2,}$", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"\b(?:wrote|writes|said)\s*:\s*$", re.IGNORECASE)
# A quoted line: "> ...", or supercite's initials before the ">" ("GM> ...", "  A> ...").
_QUOTED = re.compile(r"^[A-Za-z]{0,4}>")
# A rule of dashes, underscores or equals signs: a list's footer or a client's line above the quoted original.
_FOOTER_RULE = re.compile(r"^[-_=]{20,}$")
_BRACKETED_NAME = re.compile(r"^\[[^\]\n]{1,60}\]$")  # "[Tim]" above a quote, as some writers mark it


def strip_quotes_and_signature(body: str) -> str:
    """An email body in its sender's own words: quoted lines ("> ...") and the attribution lines that introduce
    them are dropped, and the author's paragraphs between quotes (an inline or bottom-posted reply) are kept.
    The text stops at the signature below a "-- " line, at an "-----Original Message-----" block, and at an
    attribution followed by an unquoted original (a top-posted reply)."""
    lines = body.split("\n")
    kept: list[str] = []
    skip = 0
    for index, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        stripped = line.strip()
        if line.rstrip("\r") in _SIGNATURE_SEPARATORS or _ORIGINAL_MESSAGE.match(stripped):
            break
        if _FOOTER_RULE.match(stripped):
            break
        if _QUOTED.match(stripped):
            continue
        span = _attribution_lines(lines, index)
        if span:
            if not _quote_follows(lines, index + span):
                break  # the original follows unquoted: everything below is someone else's
            skip = span - 1
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def _attribution_lines(lines: list[str], index: int) -> int:
    """How many lines (0, 1 or 2) from ``index`` introduce a quote: "On Tue, 4 Mar 2025, Ann <ann@x> wrote:"
    (possibly wrapped over two lines), "Ann Smith wrote:", or a bracketed name ("[Tim]") above a quote."""
    line = lines[index].strip()
    next_line = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if _ATTRIBUTION_END.search(line) and len(line.split()) <= 30:
        return 1 if line.startswith("On ") or _quote_follows(lines, index + 1) else 0
    if line.startswith("On ") and len(next_line.split()) <= 8 and len(line) + len(next_line) <= 300:
        return 2 if _ATTRIBUTION_END.search(next_line) else 0  # clients wrap long attributions
    if _BRACKETED_NAME.match(line) and _QUOTED.match(next_line):
        return 1
    return 0


def _quote_follows(lines: list[str], start: int) -> bool:
    """Whether the first non-blank line from ``start`` on is quoted."""
    following = next((line.strip() for line in lines[start:] if line.strip()), "")
    return bool(_QUOTED.match(following))
