"""The demonstration: one text the user wrote, the request (prompt) it answers and, for a reply, the message it
replies to."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Demonstration:
    """A text the user wrote and the prompt it answers.

    ``id`` keeps two demonstrations with the same prompt (or even the same text) apart everywhere:
    samples and preference pairs are keyed by it, never by the prompt string. ``context`` is the message the text
    replies to ("" for a text that answers none), ``context_sender`` who wrote it, ``context_below`` that it stood
    below the text (a top-posted reply). Profiles saved before replies have none of the three.
    """

    text: str
    prompt: str = ""
    source: str = "pasted"
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    context: str = ""
    context_sender: str = ""
    context_below: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Demonstration:
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise ValueError("a demonstration needs a 'text' string")
        return cls(
            text=data["text"],
            prompt=str(data.get("prompt") or ""),
            source=str(data.get("source") or "pasted"),
            id=str(data.get("id") or uuid.uuid4().hex[:12]),
            context=str(data.get("context") or ""),
            context_sender=str(data.get("context_sender") or ""),
            context_below=data.get("context_below") is True,
        )


def text_key(text: str) -> str:
    """The one rule of sameness for texts, used by the window, the command line and the evaluation:
    two texts are the same when they differ only in whitespace (line breaks, indentation, a trailing
    newline: what copying, pasting and re-saving change) or in Unicode form (macOS may hand over NFD).
    Case and punctuation count: they are part of a person's style."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def split_new(
    existing: Iterable[Demonstration], incoming: Iterable[Demonstration]
) -> tuple[list[Demonstration], list[Demonstration]]:
    """(new, repeated): the incoming demonstrations whose text is not yet among ``existing`` nor earlier
    in ``incoming``, in order, and the ones that are."""
    known = {text_key(d.text) for d in existing}
    new: list[Demonstration] = []
    repeated: list[Demonstration] = []
    for demo in incoming:
        key = text_key(demo.text)
        if key in known:
            repeated.append(demo)
        else:
            known.add(key)
            new.append(demo)
    return new, repeated
