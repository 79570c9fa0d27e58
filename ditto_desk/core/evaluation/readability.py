"""What a reader sees in a draft, beside the judge's verdict: does it end on its own, and where it reads like
an end, is it junk, does it repeat itself. (Fluency, the draft's log-likelihood under the base model, needs
the model: runner.py.)

The judge rewards an author's surface tokens even inside a draft that slid into markup or strings of
symbols, so a win rate alone can overstate what a person gets; these figures keep it honest. Each test
below is a plain pattern, hand-written because no library names "junk in a generated email".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ditto_desk.core.texts.mail import strip_quotes_and_signature

# Four or more symbols in a row ("=====", "#$%&", "|||"), dots and dashes of ordinary prose excepted.
_SYMBOL_RUN = re.compile(r"(?![.\-]{4})[^\w\s]{4,}")
# HTML or XML tags and entities, BBCode, template braces.
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|&[a-z]{2,8};|&#\d+;|\[/?[a-z]{1,6}\]|\{\{|\}\}")
# A line that is a mail header, or a reply's attribution, in the middle of a draft.
_HEADER = re.compile(
    r"^\s*(?:(?:from|to|cc|bcc|subject|sent|date|reply-to|message-id|content-type|return-path|received)\s*:"
    r"|-{2,}\s*(?:original|forwarded) message|on .{5,80} wrote:\s*$)",
    re.IGNORECASE | re.MULTILINE,
)
# Template placeholders a model fills emails with: "[Your Name]", "[Insert date]", "<name>", "{company}".
_PLACEHOLDER = re.compile(
    r"\[(?:your|insert|name|date|company|recipient)[^\]]{0,30}\]|<(?:name|your[^>]*)>|\{\w+\}", re.IGNORECASE
)
_WORD = re.compile(r"\w+")
# A text reads unfinished when its last line runs on into a word or a joining mark ("and the", "for example,")
# unless that line is short (a sign-off, a name) or ends on a hashtag or handle. Closing punctuation, brackets,
# quotes, emoticons and emoji all read as an end.
_JOINING = tuple(",;-–—(/&")
_EMOTICON = re.compile(r"[:;=]['-]?[()\[\]DPpOo/\\|]+$")  # ":-D", ";)", ":(" end a line as a full stop does
_SHORT_LINE_WORDS = 4

JUNK_TESTS = {"symbol runs": _SYMBOL_RUN, "markup": _MARKUP, "header fragments": _HEADER, "placeholders": _PLACEHOLDER}


def junk_reasons(text: str) -> list[str]:
    """Which kinds of junk the text holds (empty: none)."""
    return [name for name, pattern in JUNK_TESTS.items() if pattern.search(text)]


def reads_like_an_end(text: str) -> bool:
    """Whether the text stops where a text can stop, rather than inside a sentence."""
    lines = text.strip().splitlines()
    words = lines[-1].split() if lines else []
    if not words:
        return False
    runs_on = (words[-1][-1].isalnum() or words[-1].endswith(_JOINING)) and not _EMOTICON.search(words[-1])
    return not runs_on or len(words) <= _SHORT_LINE_WORDS or words[-1].startswith(("#", "@"))


def symbol_share(text: str) -> float:
    """Share of characters that are neither letters, digits, spaces nor ordinary punctuation."""
    visible = [c for c in text if not c.isspace()]
    odd = [c for c in visible if not c.isalnum() and c not in ".,;:!?'\"()-"]
    return len(odd) / len(visible) if visible else 0.0


def distinct_bigrams(text: str) -> float:
    """Unique word bigrams / all word bigrams: 1 for no repetition, near 0 for a loop."""
    words = [w.lower() for w in _WORD.findall(text)]
    bigrams = list(zip(words, words[1:], strict=False))
    return len(set(bigrams)) / len(bigrams) if bigrams else 1.0


def for_the_judge(text: str) -> str:
    """The text without signature, quoted replies, attributions and header lines: copying an author's
    signature or a reply header is not their style, so neither the real nor the generated texts keep them."""
    lines = strip_quotes_and_signature(text).split("\n")
    return "\n".join(line for line in lines if not _HEADER.match(line)).strip()


def readability(texts: Sequence[str], ended: Sequence[bool] | None = None) -> dict[str, float | None]:
    """The figures of a set of texts (a method's drafts, or the authors' real texts)."""
    n = max(len(texts), 1)
    stopped = ended if ended is not None else [True] * len(texts)
    return {
        "ended_share": sum(ended) / max(len(ended), 1) if ended is not None else None,
        # Ended where a text can end: a draft cut at the cap does not count, a real text always ended.
        "clean_end_share": sum(e and reads_like_an_end(t) for t, e in zip(texts, stopped, strict=True)) / n,
        "junk_share": sum(bool(junk_reasons(t)) for t in texts) / n,
        "symbol_share": sum(symbol_share(t) for t in texts) / n,
        "distinct_bigrams": sum(distinct_bigrams(t) for t in texts) / n,
        "words": sum(len(t.split()) for t in texts) / n,
    }
