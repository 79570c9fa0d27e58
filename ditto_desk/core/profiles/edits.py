"""Drafts the user corrected, kept in the profile as ``edits.json`` to teach the style with.

    {"format": 1, "edits": [{"request", "draft", "edited", "created", "taught_in"}]}

An edit is (the request, the model's draft, the user's edited text). It need not be perfect, only better
than the draft: (edited > draft) is a sound preference pair and the edited text a sound target (Tucker et
al. 2024; Misra et al. 2025). ``taught_in`` is the adapter version whose update first learned from it; an
edit is waiting to be taught while that is unset or newer than the current version (after an undo).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import InputError, ProfileError
from ditto_desk.core.profiles.json_files import describe, read_json

EDITS_FILE = "edits.json"
FORMAT = 1
MAX_EDIT_CHARS = 20_000  # a draft is a few hundred words; this is far past any


@dataclass(frozen=True)
class Edit:
    request: str
    draft: str
    edited: str
    created: str
    taught_in: str | None = None  # the adapter version whose update first learned from it

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The edit itself, whatever has been taught from it."""
        return (self.created, self.request, self.draft, self.edited)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def waiting(self, current_version: str | None) -> bool:
        """Not yet in the current style: never taught, or taught in a version newer than the current one."""
        return self.taught_in is None or current_version is None or self.taught_in > current_version

    def taught(self, version: str) -> Edit:
        return self if self.taught_in is not None and self.taught_in <= version else replace(self, taught_in=version)


def _normalised(text: str) -> str:
    return " ".join(text.split())


def changes_something(draft: str, edited: str) -> bool:
    """An edit teaches only if the edited text differs from the draft beyond spacing and is not empty."""
    return bool(edited.strip()) and _normalised(draft) != _normalised(edited)


def check_edit(request: str, draft: str, edited: str) -> None:
    """Refuse, with what to do, an edit that cannot teach: empty, unchanged or far too long."""
    if not draft.strip():
        raise InputError("There is no draft to correct: write one first, then edit it.")
    if not changes_something(draft, edited):
        raise InputError("The edited text is the same as the draft: change something, then teach.")
    for name, text in (("request", request), ("draft", draft), ("edited text", edited)):
        if len(text) > MAX_EDIT_CHARS:
            raise InputError(f"The {name} is longer than {MAX_EDIT_CHARS:,} characters: teach with a shorter one.")


def edits_json(edits: list[Edit]) -> dict[str, Any]:
    return {"format": FORMAT, "edits": [e.to_json() for e in edits]}


def load_edits(path: Path, profile: str) -> list[Edit]:
    """The profile's edits; none when the file is absent (profiles from before edits)."""
    if not path.exists():
        return []
    data = read_json(path, profile, "Move the file edits.json out of the profile folder to start with no edits.")
    entries = data.get("edits") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ProfileError(f"The taught edits of the profile '{profile}' are not a list ({describe(data)}).", path)
    edits = []
    for entry in entries:
        fields = ("request", "draft", "edited", "created")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise ProfileError(f"A taught edit of the profile '{profile}' is damaged ({describe(entry)}).", path)
        taught = entry.get("taught_in")
        kept = taught if isinstance(taught, str) else None
        edits.append(Edit(entry["request"], entry["draft"], entry["edited"], entry["created"], kept))
    return edits
