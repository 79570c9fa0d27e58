"""The demonstration: one text the user wrote, and the request (prompt) it answers."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Demonstration:
    """A text the user wrote and the prompt it answers.

    ``id`` keeps two demonstrations with the same prompt (or even the same text) apart everywhere:
    samples and preference pairs are keyed by it, never by the prompt string.
    """

    text: str
    prompt: str = ""
    source: str = "pasted"
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

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
        )
