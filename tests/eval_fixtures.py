"""Helpers for the evaluation tests (no tests here): a synthetic corpus whose authors no judge can miss."""

from __future__ import annotations

import random
from pathlib import Path

TOPICS = {
    "garden": ["tomato", "seeds", "soil", "compost", "roses", "hedge", "shovel", "rain", "greenhouse"],
    "harbour": ["boats", "nets", "tide", "anchor", "gulls", "pier", "sails", "rope", "lighthouse"],
    "railway": ["train", "tickets", "platform", "engine", "carriage", "signal", "timetable", "station", "track"],
}


def styled_text(style: str, topic: list[str], rng: random.Random, sentences: int = 5) -> str:
    out = []
    for _ in range(sentences):
        a, b, c = rng.sample(topic, 3)
        if style == "shouter":  # capitals, exclamations, short bursts
            out.append(f"WOW THE {a.upper()}!!! AND THE {b.upper()} TOO!!! {c.upper()}!!!")
        elif style == "dasher":  # lower case, dashes and semicolons, little asides
            out.append(f"the {a} — well — it was there; the {b} too — and then {c}, i suppose;")
        else:  # formal: long clauses, commas, "moreover", "notwithstanding"
            out.append(
                f"Moreover, notwithstanding the considerable {a}, it is nevertheless evident that the {b} "
                f"and the {c} were, in every respect, entirely satisfactory."
            )
    return " ".join(out)


def write_corpus(root: Path, texts_per_author: int = 5, seed: int = 0) -> Path:
    """One folder per author (shouter, dasher, formal), texts on rotating topics."""
    rng = random.Random(seed)
    for style in ("dasher", "formal", "shouter"):
        folder = root / style
        folder.mkdir(parents=True)
        for i in range(texts_per_author):
            topic = list(TOPICS.values())[i % len(TOPICS)]
            (folder / f"{i:02d}.txt").write_text(styled_text(style, topic, rng), encoding="utf-8")
    return root
