"""The texts the benchmarks train on: the four shipped samples, or four real emails of 250-800 tokens."""

from __future__ import annotations

from pathlib import Path

from ditto_desk.core.importing.files import import_paths
from ditto_desk.core.texts.demonstration import Demonstration

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SAMPLES = RESOURCES / "samples"
MAIL_CORPUS = RESOURCES / "mail-corpus"


def sample_texts() -> list[Demonstration]:
    return import_paths(sorted(SAMPLES.iterdir())).demonstrations


def real_emails(tokenizer, n: int = 4, shortest: int = 250, longest: int = 800) -> list[Demonstration]:
    """``n`` emails of the real-email corpus whose own words run to ``shortest``-``longest`` tokens, spread
    evenly over that range (the shortest, the longest, and evenly between), as a user's would be."""
    folders = sorted(p for p in MAIL_CORPUS.iterdir() if p.is_dir())
    demos = import_paths(folders).demonstrations
    sized = sorted(
        (len(tokenizer(d.text, add_special_tokens=False)["input_ids"]), d.source, d)
        for d in demos
        if shortest <= len(tokenizer(d.text, add_special_tokens=False)["input_ids"]) <= longest
    )
    picks = [round(i * (len(sized) - 1) / (n - 1)) for i in range(n)]
    return [sized[i][2] for i in picks]


def load(kind: str, tokenizer) -> list[Demonstration]:
    if kind == "samples":
        return sample_texts()
    if kind == "mail":
        return real_emails(tokenizer)
    raise ValueError(f"unknown texts {kind!r}: samples or mail")
