"""What every profile module shares: the user-facing :class:`ProfileError`, and reading a profile's JSON
files so that any damage (not UTF-8, not JSON, nested absurdly deep, the wrong shape) becomes one, never
another exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ditto_desk.core.errors import ProfileError
from ditto_desk.core.texts.demonstration import Demonstration


def parse_json(raw: bytes) -> Any:
    """Parse UTF-8 JSON; every failure is a ValueError with a short reason."""
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        # json's decoder recurses per nesting level: a file nested 100,000 deep exhausts the stack.
        raise ValueError("it is nested too deeply to be a profile file") from None


def describe(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def read_json(path: Path, profile: str, damaged_advice: str) -> Any:
    """Parse a JSON file, turning every failure into a ProfileError that names the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProfileError(
            f"The profile '{profile}' is damaged: {path.name} is missing. {damaged_advice}", path
        ) from None
    except OSError as exc:
        raise ProfileError(
            f"Could not read {path.name} of the profile '{profile}' ({exc.strerror or exc}). "
            f"Check that {path.parent} is readable and try again.",
            path,
        ) from exc
    try:
        return parse_json(raw)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
        raise ProfileError(
            f"The profile '{profile}' is damaged: {path.name} is not valid JSON ({exc}). {damaged_advice}",
            path,
        ) from exc


def read_json_of(path: Path, profile: str, kind: type, what: str, damaged_advice: str) -> Any:
    """``read_json``, then refuse anything but a ``kind`` (list, dict) with a message naming ``what`` it should hold."""
    raw = read_json(path, profile, damaged_advice)
    if not isinstance(raw, kind):
        raise ProfileError(
            f"The profile '{profile}' is damaged: {path.name} holds {describe(raw)} instead of {what}. "
            f"{damaged_advice}",
            path,
        )
    return raw


def load_demonstrations(path: Path, profile: str) -> list[Demonstration]:
    # A missing file just means "no demonstrations yet": the user loses nothing they could recover.
    if not path.exists():
        return []
    advice = f"Fix or delete {path} (the profile then starts with no demonstrations), or restore it from a backup."
    raw = read_json_of(path, profile, list, "a list of demonstrations", advice)
    demos = []
    for i, item in enumerate(raw, start=1):
        try:
            demos.append(Demonstration.from_json(item))
        except (ValueError, TypeError) as exc:
            raise ProfileError(
                f"The profile '{profile}' is damaged: entry {i} of {path.name} is not a valid "
                f"demonstration ({exc}). {advice}",
                path,
            ) from exc
    return demos


def check_settings(path: Path, profile: str) -> None:
    """Refuse a damaged settings.json: the app keeps none there yet, but an archive carries the file to another
    computer, and what may one day be read must not travel damaged."""
    if path.exists():
        advice = f"Fix or delete {path} (the profile keeps no settings there yet), or restore it from a backup."
        read_json_of(path, profile, dict, "an object of settings", advice)
