"""What the Learn page says about a profile's style in words: how it was learned, and a stopped learning kept."""

from __future__ import annotations

from datetime import datetime

from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.record import TrainingRecord
from ditto_desk.core.training.checkpoint import kept_learning


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def kept_words(profile: Profile) -> str:
    """The stopped learning this profile keeps, if any, and what Learn my style does with it."""
    done = kept_learning(profile.path)
    if done is None:
        return ""
    return (
        f"\nA stopped learning is kept ({done} done): Learn my style continues from it if the texts and settings "
        "are the same."
    )


def describe_training(record: TrainingRecord | None) -> str:
    """One line about the profile's current adapter, from its training record."""
    if record is None:
        return "This profile has a learned style."
    try:
        when = datetime.fromisoformat(str(record.finished)).astimezone().strftime("%d %b %Y, %H:%M")
    except ValueError:
        when = "earlier"
    model = record.model_name or "the model"
    if record.taught_edits is not None:
        return f"Style updated on {when} from {_plural(record.taught_edits, 'edit')} of its drafts with {model}."
    texts = f" from {_plural(record.demonstrations, 'text')}" if record.demonstrations is not None else ""
    return f"Style learned on {when}{texts} with {model}."
