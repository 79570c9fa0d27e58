"""Which of a mailbox's messages are the user's own writing, worth learning from.

A message is the user's when its From address is one of theirs. Of those, what a mail program or a server wrote
(auto-replies, bounces), what someone else wrote (forwards), what holds almost no words of the user's and what is
there twice are dropped, each with its reason counted. Headers alone decide the first checks, so the many messages
that are not the user's are never parsed whole.
"""

from __future__ import annotations

import email.header
import email.message
import email.parser
import email.utils
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy

from ditto_desk.core.errors import Refused, UsageError
from ditto_desk.core.importing.files import TooShort, import_email
from ditto_desk.core.texts.demonstration import Demonstration, text_key
from ditto_desk.core.texts.words import count_words

# Fewer words of the user's own than this teach little of how they write (a "Thanks!" or "+1").
MIN_OWN_WORDS = 20
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|tr|rv|enc)\s*:", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:auto(?:matic)?(?:\s+reply)?\s*:|automatic reply|out of (?:the )?office|abwesenheitsnotiz|"
    r"r[ée]ponse automatique)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
_HEADERS = email.parser.BytesHeaderParser(policy=policy.compat32)


@dataclass
class OwnMessages:
    """The user's own messages as demonstrations, what was dropped and why, and who sent the rest."""

    found: list[Demonstration] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    others: int = 0
    senders: Counter[str] = field(default_factory=Counter)  # every From address seen, for inferring the user's

    def add(self, where: str, data: bytes, me: frozenset[str], seen: set[str]) -> None:
        """Sort one raw message into found, dropped (with a reason) or someone else's."""
        headers = _HEADERS.parsebytes(data)
        author = address(headers.get("From", ""))
        if author:
            self.senders[author] += 1
        if author not in me:
            self.others += 1
            return
        reason = machine_written(headers) or _forwarded(headers)
        if reason:
            self.dropped[reason] += 1
            return
        try:
            demo = import_email(data, where)
        except TooShort:
            demo = None
        except Refused as refused:
            self.dropped[f"not read: {refused.reason}"] += 1
            return
        if demo is None or count_words(demo.text) < MIN_OWN_WORDS:
            self.dropped[f"fewer than {MIN_OWN_WORDS} words of your own"] += 1
            return
        key = text_key(demo.text)
        if key in seen:
            self.dropped["the same text as another message"] += 1
            return
        seen.add(key)
        self.found.append(demo)


def sender(data: bytes) -> str:
    """The From address of a message's bytes (its headers are enough)."""
    return address(_HEADERS.parsebytes(data).get("From", ""))


def address(header: str) -> str:
    """The one address in a From header, lower-cased; "" when it holds none."""
    pairs = email.utils.getaddresses([str(header)])
    return pairs[0][1].strip().lower() if pairs and "@" in pairs[0][1] else ""


def addresses(given: Iterable[str]) -> frozenset[str]:
    """The user's addresses as given (``--me``), checked and lower-cased."""
    found = set()
    for raw in given:
        one = address(raw)
        if not one:
            raise UsageError(f"{raw!r} is not an email address: give --me as name@example.com")
        found.add(one)
    return frozenset(found)


def likely_own(senders: Counter[str], messages: int) -> list[str]:
    """The addresses a Sent folder is most likely the user's by: those on at least a fifth of its messages."""
    return [a for a, n in senders.most_common(3) if n >= max(1, messages // 5)]


def machine_written(headers: email.message.Message) -> str:
    """Why a message was written by a program, not by the user ("" when it was not)."""
    auto = str(headers.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return "an automatic reply"
    if headers.get("X-Autoreply") or headers.get("X-Autorespond"):
        return "an automatic reply"
    # Not "bulk": a mailing list stamps it on every post it passes on, the user's own included.
    if str(headers.get("Precedence", "")).strip().lower() in ("auto_reply", "junk"):
        return "an automatic reply"
    if _AUTO_SUBJECT.match(_text(headers.get("Subject", ""))):
        return "an automatic reply"
    author = address(headers.get("From", ""))
    if _BOUNCE_SENDERS.match(author) or "report-type=delivery-status" in str(headers.get("Content-Type", "")).lower():
        return "a bounce"
    return ""


def _forwarded(headers: email.message.Message) -> str:
    return "a forwarded message" if _FORWARD_SUBJECT.match(_text(headers.get("Subject", ""))) else ""


def _text(value: object) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except Exception:  # noqa: BLE001 - a malformed encoded word: the raw header is checked instead
        return str(value)
