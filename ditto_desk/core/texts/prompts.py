"""Derive the request (prompt) a demonstration answers, for texts pasted or imported without one.

DITTO trains on (prompt, text) pairs, but people usually have only the text. Like the paper's
"Write an article that starts with the following: ...", we ask for a text that starts the way theirs
does, or, for an email, one about its subject. Pure string work: no model, no Qt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ditto_desk.core.errors import InputError

FALLBACK_PROMPT = "Write a short text."
EMAIL_REQUEST, TEXT_REQUEST = "Write an email about: ", "Write a text about: "
# A request that already asks for something ("Write…", "Draft…", "Reply to…") is used as typed.
_INSTRUCTION = re.compile(
    r"^(?:please\s+)?(?:write|draft|compose|reply|respond|answer|rewrite|tell|ask|announce|invite|thank)\b",
    re.IGNORECASE,
)
# "An email to the team about X" names what to write: it only lacks the verb.
_KIND_OF_TEXT = re.compile(r"^(?:an?|the|my)\s+(?:email|e-mail|mail|note|message|reply|post|letter|memo)\b", re.I)
MAX_PROMPT_WORDS = 15
# Long "sentences" without spaces (URLs, tables, junk) must not turn into a huge prompt either.
MAX_PROMPT_CHARS = 150
MAX_REQUEST_CHARS = 2_000

# Reply/forward markers in several mail clients' languages, repeated ("Re: Fwd: Re: ...").
# A mailing list's tag ("[Spambayes] Re: ...") may stand before or between them.
_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv)\s*(?:\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+", re.IGNORECASE)

# A greeting opening the first line: the greeting word, up to four name words ("Dear Ann Smith"),
# then a comma/colon/dash/"!" or the end of the line. "Hello world is..." is not one.
_GREETING = re.compile(
    r"^(?:hi|hey|hello|hiya|howdy|dear|greetings|yo|morning|evening|"
    r"good\s+(?:morning|afternoon|evening|day)|to\s+whom\s+it\s+may\s+concern)\b"
    r"(?:[ \t]+[^\s,;:!?.\u2014\u2013]+){0,4}?[ \t]*(?:[,;:!\u2014\u2013]+|-+|$)",
    re.IGNORECASE,
)
# Markdown/list/quote markers in front of the first line say nothing about what was asked for.
_LEAD_MARKUP = re.compile(r"^(?:#{1,6}\s+|[-*+]\s+|>\s*)+")
# Sentence end: terminal punctuation, optional closing quotes/brackets, then space or the end.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s|$)")
# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    "e.g. i.e. etc. vs. mr. mrs. ms. dr. prof. st. no. approx. cf. fig. inc. ltd. jr. sr.".split()  # noqa: SIM905
)


def clean_subject(subject: str) -> str:
    """The subject without "Re:"/"Fwd:" prefixes or a mailing list's "[tag]", whitespace collapsed."""
    return " ".join(_SUBJECT_PREFIX.sub("", subject).split())


def strip_greeting(text: str) -> str:
    """The text without a salutation ("Hi team,", "hey all —") opening its first non-empty line."""
    stripped = text.lstrip()
    first, newline, rest = stripped.partition("\n")
    match = _GREETING.match(first.strip())
    if match is None:
        return stripped
    remainder = first.strip()[match.end() :].strip()
    return (remainder + newline + rest).strip() if remainder else rest.strip()


def first_sentence(text: str) -> str:
    """The first real sentence (greeting skipped), at most ~15 words, with an ellipsis if cut."""
    body = _LEAD_MARKUP.sub("", strip_greeting(text))
    # A paragraph break ends a sentence too: headings and list items often have no full stop.
    paragraph = " ".join(re.split(r"\n[ \t]*\n", body, maxsplit=1)[0].split())
    sentence = paragraph
    for end in _SENTENCE_END.finditer(paragraph):
        head = paragraph[: end.end()].split()
        last_word = head[-1].lower()
        # Skip abbreviations, initials ("J.") and a list number opening the text ("1.").
        if (
            last_word in _ABBREVIATIONS
            or re.fullmatch(r"[^\W\d_]\.", last_word)
            or (len(head) == 1 and re.fullmatch(r"\d+\.", last_word))
        ):
            continue
        sentence = paragraph[: end.end()]
        break
    words = sentence.split()
    cut = len(words) > MAX_PROMPT_WORDS
    if cut:
        sentence = " ".join(words[:MAX_PROMPT_WORDS])
    if len(sentence) > MAX_PROMPT_CHARS:
        sentence, cut = sentence[:MAX_PROMPT_CHARS].rstrip(), True
    return sentence.rstrip(" ,;:-\u2014\u2013") + "\u2026" if cut else sentence


def derive_prompt(text: str, subject: str | None = None) -> str:
    """A request that ``text`` answers: from the email subject if there is one, else its first sentence.

    Never empty: falls back to ``FALLBACK_PROMPT``.
    """
    if subject:
        cleaned = clean_subject(subject)
        if _has_words(cleaned):
            if len(cleaned) > MAX_PROMPT_CHARS:
                cleaned = cleaned[:MAX_PROMPT_CHARS].rstrip() + "\u2026"
            return f"{EMAIL_REQUEST}{cleaned}"
    sentence = first_sentence(text)
    if _has_words(sentence):
        return f'Write a text that starts with: "{sentence}"'
    return FALLBACK_PROMPT


def _has_words(text: str) -> bool:
    # Punctuation alone ("...", "—") asks for nothing.
    return any(c.isalnum() for c in text)


def check_request(typed: str) -> str:
    """What the user typed as what to write, refused when it is far longer than any request (a pasted email
    belongs in the box for the email being answered, which has its own cap)."""
    if len(typed) > MAX_REQUEST_CHARS:
        raise InputError(
            f"The request is {len(typed):,} characters long; say in a few sentences what to write (at most "
            f"{MAX_REQUEST_CHARS:,} characters). To answer an email, give it as the email you are replying to."
        )
    return typed


def as_request(typed: str, training_prompts: Sequence[str] = ()) -> str:
    """What the user typed in Compose, in the form the profile's training prompts had.

    The model learnt the style from requests like "Write an email about: Friday offsite"; a bare
    "moving Friday's retro to Monday" or "An email to the team about…" is put in that form, so that the
    learned style answers it. Profiles of emails get "Write an email about: …", others "Write a text about: …".
    """
    request = typed.strip()
    if not request or _INSTRUCTION.match(request):
        return request
    if _KIND_OF_TEXT.match(request):
        return f"Write {request[0].lower()}{request[1:]}"
    emails = sum(p.startswith(EMAIL_REQUEST) for p in training_prompts)
    form = EMAIL_REQUEST if not training_prompts or 2 * emails >= len(training_prompts) else TEXT_REQUEST
    return form + request
