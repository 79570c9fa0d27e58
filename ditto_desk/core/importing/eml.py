"""The sender's own words, the message they answer and the subject of an .eml file.

The stdlib parser reads the message, with the compat32 policy: policy.default parses every header it
touches with email._header_value_parser, at some 20 µs a byte (a 16 KB Content-Type took 0.3 s, a 1 MB
Subject 15 s, and a megabyte of encoded words ran out of memory); compat32 keeps headers as the strings
they are. The parser's time still grows with nesting times lines (each line is matched against every
enclosing boundary, and 2,000 nested parts overflowed the stack) and its memory with the number of parts,
so a scan of the raw bytes bounds those before it runs.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.errors
import email.header
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from typing import cast

from ditto_desk.core.errors import Refused
from ditto_desk.core.importing.decoding import decode_text
from ditto_desk.core.importing.html import html_to_text
from ditto_desk.core.texts.mail import Reply, sender_name, split_reply

# The parser's time is about 0.1 µs per line per enclosing part; these two bound it to some 0.5 s.
# A 10 MB email with attachments has some 135,000 lines (base64 lines are 76 characters long).
MAX_LINES = 400_000
# Real mail nests a few multipart and message parts (mixed > alternative > related, a forwarded message or
# two); counted over the whole message, this bounds the nesting depth from above.
MAX_CONTAINERS = 12
# Parts, counted from above as the lines that begin with "--" (every part starts with such a line).
MAX_PARTS = 1_000
MAX_CONTENT_TYPE_CHARS = 4_000  # compat32 splits parameters in quadratic time; real ones are < 200
MAX_SUBJECT_CHARS = 2_000

_CONTENT_TYPE = re.compile(rb"^content-type:[^\n]*(?:\n[ \t][^\n]*)*", re.IGNORECASE | re.MULTILINE)
_CONTAINER = re.compile(rb":\s*(?:multipart|message)/", re.IGNORECASE)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BASE64_DEFECTS = (
    email.errors.InvalidBase64CharactersDefect,
    email.errors.InvalidBase64PaddingDefect,
    email.errors.InvalidBase64LengthDefect,
)
# Codecs Python has that no mail is written in, some of them slow on large input.
_NOT_MAIL_CHARSETS = frozenset({"punycode", "idna", "unicode-escape", "raw-unicode-escape"})
_NO_TEXT = "no text found in this email; export it again as .eml, or paste the text"


@dataclass(frozen=True)
class Email:
    reply: Reply  # the body taken apart: the sender's own words, and the message they answer
    subject: str | None
    sender: str  # the sender's name (or address) from the From header; "" when it gives none


def read_eml(data: bytes) -> Email:
    """An email's body taken apart, its subject and its sender."""
    data = _as_bytes_of_mail(data)
    _check_shape(data)
    message = email.message_from_bytes(data, policy=policy.compat32)
    body = _find_body(message)
    if body is None:
        raise Refused(_NO_TEXT)
    payload = _payload(body)
    if not payload.strip():
        raise Refused(_NO_TEXT)
    text = _decode_part(payload, body.get_content_charset())
    if body.get_content_subtype() == "html":
        text = html_to_text(text, mark_quotes=True)
    reply = split_reply(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not reply.own.strip():
        raise Refused("nothing left after removing quoted replies and the signature")
    return Email(reply, _subject(message), _sender(message))


def _as_bytes_of_mail(data: bytes) -> bytes:
    """An email saved as UTF-16 (Windows' "Unicode" text) or with a UTF-8 byte-order mark, as the 8-bit bytes the
    mail parser reads: otherwise its headers are not seen, and come in as the author's words."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace").encode("utf-8")
    head = data[:400]
    for offset, codec in ((1, "utf-16-le"), (0, "utf-16-be")):  # no mark: ASCII headers with a zero byte each
        if len(head) >= 40 and head[offset::2].count(0) >= 0.9 * len(head[offset::2]):
            return data.decode(codec, errors="replace").encode("utf-8")
    return data.removeprefix(codecs.BOM_UTF8)


def _check_shape(data: bytes) -> None:
    lines = data.count(b"\n") + 1
    if lines > MAX_LINES:
        raise Refused(
            f"too many lines for one email: {lines:,}, the limit is {MAX_LINES:,} — paste the text you wrote instead"
        )
    fields = _CONTENT_TYPE.findall(data)
    if any(len(field) > MAX_CONTENT_TYPE_CHARS for field in fields):
        raise Refused("this email is damaged (a Content-Type header runs on for pages); paste the text instead")
    containers = sum(1 for field in fields if _CONTAINER.search(field))
    if containers > MAX_CONTAINERS:
        raise Refused(
            f"this email has too many parts inside other parts ({containers:,}; the most read is {MAX_CONTAINERS}) "
            "— paste the text you wrote instead"
        )
    parts = data.count(b"\n--")
    if parts > MAX_PARTS:
        raise Refused(
            f"this email is split into too many parts (some {parts:,}; the most read is {MAX_PARTS:,}) — paste the "
            "text you wrote instead"
        )


def _find_body(message: Message) -> Message | None:
    """The first text/plain part that is not an attachment, else the first text/html one; forwarded messages
    (message/rfc822) are someone else's and not looked into. Iterative: nesting must not cost stack."""
    html: Message | None = None
    stack = [message]
    while stack:
        part = stack.pop()
        if part.get_content_disposition() == "attachment":
            continue
        maintype = part.get_content_maintype()
        if maintype == "multipart" and part.is_multipart():
            stack.extend(reversed(cast(list[Message], part.get_payload())))  # a multipart's payload: its parts
        elif maintype == "text" and not part.is_multipart():
            subtype = part.get_content_subtype()
            if subtype == "plain":
                return part
            if subtype == "html" and html is None:
                html = part
    return html


def _payload(part: Message) -> bytes:
    """The part's bytes with its transfer encoding undone; refused when its base64 is broken."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raise Refused(_NO_TEXT)
    if any(isinstance(defect, _BASE64_DEFECTS) for defect in part.defects):
        # The parser decodes what it can and notes a defect; whitespace inside lines is one it notes although
        # nothing is lost, so decode strictly without it before calling the text broken.
        try:
            # The stdlib decodes the raw payload with the declared charset: a bogus one (punycode) raises here.
            raw = part.get_payload(decode=False)
            raw_bytes = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
            return base64.b64decode(re.sub(rb"\s+", b"", raw_bytes), validate=True)
        except (binascii.Error, LookupError, ValueError) as error:  # UnicodeError is a ValueError
            raise Refused(
                "this email's text is damaged: its base64 encoding is broken, so it cannot be read back; "
                "export the email again from your mail program, or paste the text"
            ) from error
    return payload


def _decode_part(payload: bytes, charset: str | None) -> str:
    # The declared charset is often missing or wrong; fall back to detection rather than mangle it.
    if charset:
        try:
            if codecs.lookup(charset).name not in _NOT_MAIL_CHARSETS:
                return payload.decode(charset)
        except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
            pass
    return decode_text(payload, what="this email's text", advice="paste the text instead")


def _sender(message: Message) -> str:
    raw = next((value for name, value in message.raw_items() if name.lower() == "from"), None)
    if not isinstance(raw, str) or len(raw) > MAX_SUBJECT_CHARS:
        return ""
    try:
        decoded = str(email.header.make_header(email.header.decode_header(_FOLD.sub("", raw))))
    except Exception:  # noqa: BLE001 - a malformed encoded word loses us the name, not the email
        decoded = raw
    return sender_name(decoded)


def _subject(message: Message) -> str | None:
    # raw_items: compat32's get() wraps a header holding 8-bit bytes in a Header object; the raw string is
    # easier to mend (such bytes are nearly always UTF-8).
    raw = next((value for name, value in message.raw_items() if name.lower() == "subject"), None)
    if not isinstance(raw, str) or len(raw) > MAX_SUBJECT_CHARS:
        return None  # no subject, or not one: the prompt is derived from the text instead
    raw = _FOLD.sub("", raw).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        subject = str(email.header.make_header(email.header.decode_header(raw)))
    except Exception:  # noqa: BLE001 - a malformed encoded word loses us the subject, not the email
        subject = raw
    return subject.strip() or None
