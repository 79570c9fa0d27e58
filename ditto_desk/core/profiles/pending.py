"""What a learning changes beside its adapter, committed in the same step as the adapter.

A learning from new texts adds them to the profile; an update from edits marks those edits taught. The change is
written into profile.json together with the new adapter's name (the one commit point), then made, then its record
dropped. A process killed in between has it made the next time the profile is opened: never a style learned from
five texts in a profile that keeps four, or an edit taught twice. Making it twice changes nothing (texts the
profile holds are skipped, and an edit keeps the first version that taught it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ditto_desk.core.profiles.edits import Edit
from ditto_desk.core.texts.demonstration import Demonstration

PENDING = "pending"  # the key in profile.json

EditKey = tuple[str, str, str, str]


@dataclass(frozen=True)
class CommitChange:
    texts: tuple[Demonstration, ...] = ()  # to add to the profile's texts
    replace_texts: bool = False  # the texts become the profile's texts, instead
    taught: tuple[EditKey, ...] = ()  # the edits the new version learned from

    @classmethod
    def adding(cls, texts: Sequence[Demonstration], replace: bool = False) -> CommitChange:
        return cls(texts=tuple(texts), replace_texts=replace)

    @classmethod
    def teaching(cls, edits: Sequence[Edit]) -> CommitChange:
        return cls(taught=tuple(e.key for e in edits))

    @property
    def changes_texts(self) -> bool:
        return bool(self.texts) or self.replace_texts

    def to_json(self) -> dict[str, Any]:
        return {
            "texts": [d.to_json() for d in self.texts],
            "replace_texts": self.replace_texts,
            "taught": [list(k) for k in self.taught],
        }

    @classmethod
    def from_json(cls, data: object) -> CommitChange | None:
        """The change recorded in profile.json; None when there is none or it cannot be read (a hand-edited file:
        the style it came with is kept, the change is not guessed at)."""
        if not isinstance(data, dict):
            return None
        try:
            texts = tuple(Demonstration.from_json(d) for d in data.get("texts", []))
            taught = tuple(_edit_key(k) for k in data.get("taught", []))
        except (TypeError, ValueError, AttributeError):
            return None
        return cls(texts, data.get("replace_texts") is True, taught)


def _edit_key(value: object) -> EditKey:
    if not isinstance(value, list) or len(value) != 4 or not all(isinstance(v, str) for v in value):
        raise ValueError("not an edit")
    return (value[0], value[1], value[2], value[3])
