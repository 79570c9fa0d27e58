"""The request a reply answers: the message it replies to, as much of it as the budget holds, then the request
itself in the form every text's request has ("Write an email about: ...").

The message is cut to a token budget, keeping the part the answer is nearest to: the end of a quote that stood
above the answer (bottom-posted and inline replies), the beginning of an original below it (top-posted ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.prompts import EMAIL_REQUEST, as_request, check_request, clean_subject, derive_prompt

# Tokens of the message answered that a request holds. benchmarks/replies.md: 128 keep three quarters of real
# answered messages whole for 1.7x a training pass; 192 keep 84% for 1.9x, and 256 crowd the text out of the
# training window (4.4x: three times the segments).
CONTEXT_TOKENS = 128
# Characters of it kept with a demonstration (shown in the window, editable): far more than a request holds.
MAX_CONTEXT_CHARS = 4_000


def reply_request(
    tokenizer: Any, message: str, request: str, sender: str = "", below: bool = False, budget: int = CONTEXT_TOKENS
) -> str:
    """The request for a reply to ``message`` (from ``sender``): the message, cut to ``budget`` tokens, and
    ``request`` (what the reply is to say, in the profile's form; may be empty)."""
    head = f"Answer this email from {sender}:" if sender else "Answer this email:"
    body = f"{head}\n\n{nearest_tokens(tokenizer, message, budget, from_start=below)}"
    return f"{body}\n\n{request.strip()}" if request.strip() else body


def demonstration_request(tokenizer: Any, demo: Demonstration) -> str:
    """The request a demonstration answers: its prompt (derived from the text when empty), after the message it
    replies to when it has one."""
    request = demo.prompt.strip() or derive_prompt(demo.text)
    if not demo.context.strip():
        return request
    return reply_request(tokenizer, demo.context, request, demo.context_sender, demo.context_below)


def nearest_tokens(tokenizer: Any, text: str, budget: int, from_start: bool) -> str:
    """``text`` cut to about ``budget`` tokens on whole words, from its start or from its end, "…" marking the cut."""
    text = text.strip()
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) <= budget:
        return text
    if from_start:
        head: str = tokenizer.decode(ids[:budget])
        return (head.rsplit(None, 1)[0] if " " in head.strip() else head).rstrip() + " …"
    tail: str = tokenizer.decode(ids[-budget:])
    return "… " + (tail.split(None, 1)[1] if " " in tail.strip() else tail).lstrip()


def nearest_chars(text: str, limit: int, from_start: bool) -> str:
    """``text`` cut to at most ``limit`` characters on whole words, keeping the same end as :func:`nearest_tokens`."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if from_start:
        return text[:limit].rsplit(None, 1)[0].rstrip() + " …"
    return "… " + text[-limit:].split(None, 1)[-1].lstrip()


def compose_request(
    tokenizer: Any,
    typed: str,
    training_prompts: Sequence[str],
    reply_to: str = "",
    sender: str = "",
    subject: str | None = None,
) -> str:
    """The request a draft answers: what the user typed, in the form of the profile's requests, after the message
    being answered when there is one. For a reply what to say is optional; the message's subject stands in for it."""
    request = as_request(check_request(typed), training_prompts)
    if not reply_to.strip():
        return request
    if not request and subject and clean_subject(subject):
        request = EMAIL_REQUEST + clean_subject(subject)
    return reply_request(tokenizer, reply_to, request, sender)
