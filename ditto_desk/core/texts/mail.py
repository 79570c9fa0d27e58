"""An email body taken apart: its sender's own words, and the message they answer.

Pure string work on the plain-text body (importing/files.py decodes the message first; HTML mail arrives with its
blockquotes written as "> " lines): the importer keeps what the user wrote apart from what it replies to, the
evaluation judges texts without their signatures and reply headers. The shapes are those real clients write: Gmail,
Outlook, Apple Mail, Thunderbird, mutt, MH/exmh, in English and in the most common other languages. Written by hand:
the libraries that parse replies (talon, email_reply_parser) keep only the newest message and drop the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SIGNATURE_SEPARATORS = frozenset({"-- ", "--"})
# The line above a replied-to original that follows unquoted (Outlook's "-----Original Message-----" and its German
# and French versions), and above a forwarded one: Gmail's "---------- Forwarded message ---------", Thunderbird's
# "-------- Forwarded Message --------", Apple Mail's "Begin forwarded message:". What follows the first is the
# message the text answers; what follows the second is passed on, not answered.
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|message original)\s*-{2,}$", re.I
)
_FORWARDED_MESSAGE = re.compile(
    r"^(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré)\s*-{2,}|begin forwarded message:)$",
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
_HEADER_OTHER = re.compile(_HEADER.format(r"(?:cc|bcc|kopie|reply-to|antwort an|répondre à)"), re.IGNORECASE)
# MH and exmh (the MH mail reader) attribute a quote with the answered message's headers, indented, above "  | "
# lines: "    Date:  Wed, 28 Aug 2002 …" / "    From:  Chris <c@x>" / "    Message-ID:  <…>".
_MH_HEADER = re.compile(r"^\s*(?:date|from|message-id|to|cc|subject|in-reply-to|references)\s*:\s", re.IGNORECASE)
_MH_FROM = re.compile(r"^\s*from\s*:\s*", re.IGNORECASE)
# Supercite's attribution, a quote line itself: '>>>>> "GM" == Gary Murphy <g@x> writes:'.
_SUPERCITE = re.compile(r'^>{3,}\s*"[^"\n]{1,12}"\s*==\s*(.{1,200}?)\s*(?:writes|wrote)\s*:\s*$', re.IGNORECASE)
_PIPE_QUOTED = re.compile(r"^\s{0,8}\|(?:\s|$)")
# What a phone or webmail appends by itself: "Sent from my iPhone", "Get Outlook for iOS", "Sent with Proton
# Mail secure email." Not the author's words, so not something to learn.
_CLIENT_FOOTER = re.compile(r"^(?:sent from|sent with|get outlook for|von meinem \S+ gesendet)\b.{0,50}$", re.I)


# Longer lines are text, and not searched for the end of an attribution: a megabyte-long line took 0.1 s a search.
_MAX_ATTRIBUTION_CHARS = 400


@dataclass(frozen=True)
class Reply:
    """An email body taken apart. ``quoted`` is the message the body answers, its quoted parts in the order they
    stood (an inline reply's quotes one after the other), without deeper quotes, attributions or its own
    signature; ``sender`` its writer's name as the attribution or header block gives it; ``quoted_below`` that it
    stood below the answer (a top-posted reply), so that its beginning is what the answer is nearest to."""

    own: str
    quoted: str = ""
    sender: str = ""
    quoted_below: bool = False


def strip_quotes_and_signature(body: str) -> str:
    """An email body in its sender's own words (:func:`split_reply`'s ``own``)."""
    return split_reply(body).own


def split_reply(body: str) -> Reply:
    """The sender's own words, and the message they answer.

    Own words: quoted lines ("> ...", and "| ..." below an MH header block) and the attribution lines that
    introduce them are dropped, and the author's paragraphs between quotes (an inline or bottom-posted reply) are
    kept. They stop at the signature below a "-- " line, at an "-----Original Message-----" or forwarded-message
    line, at an Outlook "From: / Sent:" header block, and at an attribution followed by an unquoted original (a
    top-posted reply). Lines a phone client appends ("Sent from my iPhone") are dropped.

    The message answered: the quoted lines, or else the original below the answer (under an attribution, an
    original-message line or a header block, after the signature too). A forwarded message is not answered."""
    lines = body.split("\n")
    walk = _walk(lines, 0)
    quoted, sender, stop = walk.quoted, walk.sender, walk
    # Below a signature or a rule stand the signature, a list's footer and, in a top-posted reply, the original.
    below = walk.quotes_below
    while not quoted and stop.stop == "signature":
        stop = _walk(lines, stop.stop_index + 1)
        quoted, sender, below = stop.quoted, stop.sender or sender, True
    if not quoted and stop.stop == "original":
        original = _original(lines, stop.stop_index)
        quoted, sender, below = original.own, original.sender or sender, True
    context = _walk(quoted, 0).own if quoted else []  # the answered message without its own signature
    return Reply(_joined(walk.own), _joined(context), sender, below and bool(context))


@dataclass
class _Walk:
    """What a pass over the lines found, and where and why it stopped ("end", "signature", "original")."""

    own: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    sender: str = ""
    stop: str = "end"
    stop_index: int = 0
    own_lines: list[int] = field(default_factory=list)
    quote_lines: list[int] = field(default_factory=list)

    def add_quote(self, index: int, content: str) -> None:
        if self.quote_lines and self.own_lines and self.own_lines[-1] > self.quote_lines[-1]:
            self.quoted.append("")  # the author's words stood between two quotes: a paragraph break
        self.quote_lines.append(index)
        if content.lstrip().startswith((">", "|")):
            return  # a deeper quote: what the answered message itself quoted
        first = not any(line.strip() for line in self.quoted)
        if _ATTRIBUTION_END.search(content) and len(content.split()) <= 30:
            if first:  # Apple Mail quotes the attribution with the text; deeper down, one introduces a deeper quote
                self.sender = self.sender or sender_name(content)
            return
        if first and (_MH_HEADER.match(content) or _is_header(content.strip())):  # exmh quotes the header block
            if _MH_FROM.match(content):
                self.sender = self.sender or sender_name(_MH_FROM.sub("", content))
            return
        self.quoted.append(content)

    @property
    def quotes_below(self) -> bool:
        """All of the author's words stand above the first quote: a top-posted reply over a quoted original."""
        return bool(self.own_lines) and bool(self.quote_lines) and self.own_lines[-1] < self.quote_lines[0]


def _walk(lines: list[str], start: int) -> _Walk:
    walk = _Walk()
    pipe_quotes = False  # "| " lines are quotes once an MH header block introduced them
    index = start
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        index += 1
        if not stripped:
            walk.own.append(line)
            continue
        supercite = _SUPERCITE.match(stripped)
        if supercite:
            walk.sender = walk.sender or sender_name(supercite.group(1))
            continue
        quote = _quote_content(line, stripped, pipe_quotes)
        if quote is not None:
            walk.add_quote(index - 1, quote)
            continue
        if line.rstrip("\r") in _SIGNATURE_SEPARATORS or _FOOTER_RULE.match(stripped):
            return _stopped(walk, "signature", index - 1)
        if _FORWARDED_MESSAGE.match(stripped):
            return _stopped(walk, "end", index - 1)
        if _ORIGINAL_MESSAGE.match(stripped) or _header_block_starts(lines, index - 1):
            return _stopped(walk, "original", index - 1)
        if _CLIENT_FOOTER.match(stripped):
            continue
        span = _attribution_lines(lines, index - 1)
        if span:
            walk.sender = walk.sender or sender_name(" ".join(lines[index - 1 : index - 1 + span]))
            if not _quote_follows(lines, index - 1 + span):
                return _stopped(walk, "original", index - 1 + span)  # everything below is someone else's
            index += span - 1
            continue
        span = _mh_attribution(lines, index - 1)
        if span:
            header = next(h for h in lines[index - 1 : index - 1 + span] if _MH_FROM.match(h))
            walk.sender = walk.sender or sender_name(_MH_FROM.sub("", header))
            pipe_quotes = True
            index += span - 1
            continue
        walk.own.append(line)
        walk.own_lines.append(index - 1)
    return _stopped(walk, "end", len(lines))


def _stopped(walk: _Walk, stop: str, index: int) -> _Walk:
    walk.stop, walk.stop_index = stop, index
    return walk


def _quote_content(line: str, stripped: str, pipe_quotes: bool) -> str | None:
    """A quoted line's text with one level of quoting taken off; None for a line that is not quoted."""
    match = _QUOTED.match(stripped)
    if match:
        rest = stripped[match.end() :]
    elif pipe_quotes and _PIPE_QUOTED.match(line):
        rest = line.split("|", 1)[1]
    else:
        return None
    return rest[1:] if rest.startswith(" ") else rest


def _original(lines: list[str], index: int) -> _Walk:
    """The original below a top-posted answer, from its marker or header block: its writer's own words, and its
    writer's name from its "From:" header."""
    if index < len(lines) and _ORIGINAL_MESSAGE.match(lines[index].strip()):
        index += 1
    while index < len(lines) and not lines[index].strip():
        index += 1
    sender = ""
    while index < len(lines) and _is_header(lines[index].strip()):
        if _HEADER_FROM.match(lines[index].strip()):
            sender = sender_name(_HEADER_FROM.sub("", lines[index].strip()))
        index += 1
    original = _walk(lines, index)
    original.sender = sender or original.sender
    return original


def _is_header(line: str) -> bool:
    return any(pattern.match(line) for pattern in (_HEADER_FROM, _HEADER_DATE, _HEADER_TO, _HEADER_OTHER))


def _mh_attribution(lines: list[str], index: int) -> int:
    """How many lines from ``index`` form an MH header block (with a "From:") above a quote; 0 if none do."""
    span = 0
    while index + span < len(lines) and span < 8 and _MH_HEADER.match(lines[index + span]):
        span += 1
    if span < 2 or not any(_MH_FROM.match(line) for line in lines[index : index + span]):
        return 0
    following = next((line for line in lines[index + span :] if line.strip()), "")
    return span if _PIPE_QUOTED.match(following) or _QUOTED.match(following.strip()) else 0


_ADDRESS = re.compile(r"<?\s*[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*>?")
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?(?:\s*(?:Uhr|h)\b)?(?:\s*[+-]\d{4})?")
_MAX_NAME_CHARS = 60


def sender_name(attribution: str) -> str:
    """The writer's name in an attribution or a "From:" value ("On Tue, 4 Mar 2025, Ann Smith <a@x> wrote:",
    "Ann wrote:", "[Tim]", "* Ann <a@x> [2025-03-04]:", "Quoting Ann:", "Chris <c@x>"), or its address when it
    names none; "" when it holds neither."""
    text = " ".join(attribution.split())
    bracketed = re.fullmatch(r"\[([^\]]+)\]", text)
    if bracketed:
        text = bracketed.group(1)
    verb = re.search(rf"\s*\b{_WROTE}\s*:\s*$", text, flags=re.IGNORECASE)
    if verb:
        text = text[: verb.start()]
    text = re.sub(r"^(?:quoting|excerpts from)\s+|'s message of .*$|\s*\[[^\]]*\]\s*:?\s*$", "", text, flags=re.I)
    german = re.search(r"\bschrieb\s+(.+)$", text)
    if german:
        text = german.group(1)
    elif verb or _ATTRIBUTION_START.match(text):  # "On <date>, <name>": the name follows the last comma or time
        times = [match.end() for match in _TIME.finditer(text)]
        text = text[max([text.rfind(",") + 1, *times]) :]
    address = _ADDRESS.search(text)
    name = _ADDRESS.sub(" ", text).strip(" \"'()<>[]*:,;")
    if not any(c.isalpha() for c in name) and address:
        name = address.group().strip(" <>")
    name = " ".join(name.split())
    return name if len(name) <= _MAX_NAME_CHARS and any(c.isalpha() for c in name) else ""


def _joined(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


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
