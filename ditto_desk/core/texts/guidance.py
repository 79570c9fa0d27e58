"""Gentle advice on the demonstrations: how many, and which ones are too short, too long or empty.
Plain Python, so it is easy to test and to reuse."""

from __future__ import annotations

from collections.abc import Sequence

from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.words import count_words

MIN_DEMOS = 2
BEST_MAX_DEMOS = 10
SHORT_WORDS = 30
LONG_WORDS = 400  # past the 384-token window the quick preset trains on: learnt in segments


def flag(demo: Demonstration) -> str | None:
    """Why this demonstration may not help, or None when it looks fine."""
    words = count_words(demo.text)
    if words == 0:
        return "Empty: write or paste the text here, or remove this item."
    if words < SHORT_WORDS:
        return f"Short ({words} words): the model learns more from a whole email or post."
    if words > LONG_WORDS:
        return f"Long ({words} words): learnt whole, in parts, which makes learning take longer."
    return None


def guidance(demos: Sequence[Demonstration]) -> tuple[str, bool]:
    """(sentence, all good?) for the count line under the list."""
    n = len(demos)
    texts = f"{n} text{'' if n == 1 else 's'}"
    empty = sum(1 for d in demos if not d.text.strip())
    flagged = sum(1 for d in demos if d.text.strip() and flag(d))
    if n == 0:
        return "No texts yet — add at least 2 of your own emails or posts.", False
    if empty:
        return f"{texts} — {empty} {'is' if empty == 1 else 'are'} empty: fill in or remove before learning.", False
    if n < MIN_DEMOS:
        return f"{texts} — add at least {MIN_DEMOS} (3 to 10 is ideal).", False
    if n > BEST_MAX_DEMOS:
        return f"{texts} — DITTO works best with under {BEST_MAX_DEMOS}: keep your most typical ones.", False
    note = f" ({flagged} marked ⚠ may help less)" if flagged else ""
    return f"{texts} — good, ready to learn{note}.", not flagged


def ready_to_learn(demos: Sequence[Demonstration]) -> bool:
    return len(demos) >= MIN_DEMOS and all(d.text.strip() for d in demos)


def preview(demo: Demonstration, width: int = 90) -> str:
    text = " ".join(demo.text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
