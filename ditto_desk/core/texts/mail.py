"""An email body in its sender's own words: quotes, attributions, signatures and footers removed.

Pure string work on the plain-text body (importing/files.py decodes the message first; HTML mail arrives with its
blockquotes written as "> " lines): the importer uses it to keep what the user wrote, the evaluation to
judge texts without their signatures and reply headers. The shapes are those real clients write: Gmail,
Outlook, Apple Mail, Thunderbird, mutt, in English and in the most common other languages.
"""

from __future__ import annotations

import re

_SIGNATURE_SEPARATORS = frozenset({"-- ", "--"})
# The line above a forwarded or replied-to original that follows unquoted: Outlook's "-----Original
# Message-----", Gmail's "---------- Forwarded message ---------", Thunderbird's "-------- Forwarded Message
# --------", Apple Mail's "Begin forwarded message:", and their German and French versions.
_ORIGINAL_MESSAGE = re.compile(
    r"^(?:-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht|weitergeleitete nachricht|"
    r"message d'origine|message original|message transféré)\s*-{2,}|begin forwarded message:)$",
    re.IGNORECASE,
)
_WROTE = r"(?:wrote|writes|said|schrieb|a écrit|escribió|ha scritto|schreef|skrev|kirjoitti|escreveu)"
_ATTRIBUTION_END = re.compile(rf"\b{_WROTE}\s*:\s*$", re.IGNORECASE)
# How clients begin a dated attribution ("On Tue, 4 Mar 2025, Ann wrote:", "Le mar. 4 mars 2025, Ann a écrit :"),
# and German Gmail's, whose verb comes before the name ("Am Di., 4. März 2025 um 09:12 schrieb Ann <a@b>:").
_ATTRIBUTION_START = re.compile(r"^(?:On|Le|Am|El|Il|Op|Em|Den)\s")
_GERMAN_ATTRIBUTION = re.compile(r"^Am\s.+\bschrieb\s.+:\s*$")
# Other clients' lines above a quote: mutt's "* Ann <a@b> [2025-03-04 09:12]:", Horde's "Quoting Ann <a@b>:",
# sup's "Excerpts from Ann's message of 2025-03-04:".
_QUOTE_INTRO = re.compile(r"^(?:\*\s.*\[[^\]\n]*\]|quoting\s.+|excerpts from\s.+)\s*:\s*$", re.IGNORECASE)
# A quoted line: "> ...", or supercite's initials before the ">" ("GM> ...", "  A> ...").
_QUOTED = re.compile(r"^[A-Za-z]{0,4}>")
# A rule of dashes, underscores or equals signs: a list's footer or a client's line above the quoted original.
_FOOTER_RULE = re.compile(r"^[-_=]{20,}$")
_BRACKETED_NAME = re.compile(r"^\[[^\]\n]{1,60}\]$")  # "[Tim]" above a quote, as some writers mark it
# The header block Outlook (and Apple Mail, forwarding) writes above the original it leaves unquoted:
# "From: Bob <bob@x>" then, within a few lines, "Sent:"/"Date:" and "To:"/"Subject:"; Gmail's plain-text
# version of Outlook's HTML stars the names ("*From:* Bob").
_HEADER = r"^\*?{}\*?\s*:\s*\*?(?:\s|$)"
_HEADER_FROM = re.compile(_HEADER.format(r"(?:from|von|de|da|van|från|fra|od)"), re.IGNORECASE)
_HEADER_DATE = re.compile(
    _HEADER.format(r"(?:sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|skickat|sendt|data)"),
    re.IGNORECASE,
)
_HEADER_TO = re.compile(_HEADER.format(r"(?:to|subject|an|betreff|à|objet|para|asunto|a|oggetto|aan)"), re.I)
# What a phone or webmail appends by itself: "Sent from my iPhone", "Get Outlook for iOS", "Sent with Proton
# Mail secure email." Not the author's words, so not something to learn.
_CLIENT_FOOTER = re.compile(r"^(?:sent from|sent with|get outlook for|von meinem \S+ gesendet)\b.{0,50}$", re.I)


# Longer lines are text, and not searched for the end of an attribution: a megabyte-long line took 0.1 s a search.
_MAX_ATTRIBUTION_CHARS = 400


def strip_quotes_and_signature(body: str) -> str:
    """An email body in its sender's own words: quoted lines ("> ...") and the attribution lines that introduce
    them are dropped, and the author's paragraphs between quotes (an inline or bottom-posted reply) are kept.
    The text stops at the signature below a "-- " line, at an "-----Original Message-----" or forwarded-message
    line, at an Outlook "From: / Sent:" header block, and at an attribution followed by an unquoted original
    (a top-posted reply). Lines a phone client appends ("Sent from my iPhone") are dropped."""
    lines = body.split("\n")
    kept: list[str] = []
    skip = 0
    for index, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        stripped = line.strip()
        if not stripped:
            kept.append(line)
            continue
        if _QUOTED.match(stripped):
            continue
        if line.rstrip("\r") in _SIGNATURE_SEPARATORS or _ORIGINAL_MESSAGE.match(stripped):
            break
        if _FOOTER_RULE.match(stripped) or _header_block_starts(lines, index):
            break
        if _CLIENT_FOOTER.match(stripped):
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
    (possibly wrapped over two lines), "Ann Smith wrote:", a bracketed name ("[Tim]") above a quote, or
    another client's introduction (mutt, Horde) above one."""
    line = lines[index].strip()
    if len(line) > _MAX_ATTRIBUTION_CHARS:
        return 0
    next_line = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if (_ATTRIBUTION_END.search(line) or _GERMAN_ATTRIBUTION.match(line)) and len(line.split()) <= 30:
        return 1 if _ATTRIBUTION_START.match(line) or _quote_follows(lines, index + 1) else 0
    if _ATTRIBUTION_START.match(line) and len(line) + len(next_line) <= 300 and len(next_line.split()) <= 8:
        return 2 if _ATTRIBUTION_END.search(next_line) else 0  # clients wrap long attributions
    if (_BRACKETED_NAME.match(line) and _QUOTED.match(next_line)) or (
        _QUOTE_INTRO.match(line) and len(line) <= 200 and _quote_follows(lines, index + 1)
    ):
        return 1
    return 0


def _header_block_starts(lines: list[str], index: int) -> bool:
    """Whether an Outlook-style "From: ... / Sent: ... / To: ..." block begins at ``index``."""
    if not _HEADER_FROM.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1 : index + 6]]
    return any(_HEADER_DATE.match(line) for line in following) and any(_HEADER_TO.match(line) for line in following)


def _quote_follows(lines: list[str], start: int) -> bool:
    """Whether the first non-blank line from ``start`` on is quoted."""
    following = next((line.strip() for line in lines[start:] if line.strip()), "")
    return bool(_QUOTED.match(following))
