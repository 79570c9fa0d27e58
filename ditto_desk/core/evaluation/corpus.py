"""The evaluation corpus: one folder per author, split into demonstrations and held-out texts.

The split is per author and deterministic given the seed. Identical texts (by the app's one rule of
sameness, demos.text_key) are kept once, so a held-out text can never also be a demonstration (and
reach training or the few-shot prompt).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ditto_desk.core.errors import InputError, UsageError
from ditto_desk.core.importing.files import Refusal, import_paths
from ditto_desk.core.texts.demonstration import Demonstration, split_new

MAX_DEMONSTRATIONS = 7  # the paper's upper end; more would not fit a CPU budget anyway


@dataclass(frozen=True)
class AuthorSplit:
    author: str
    demonstrations: tuple[Demonstration, ...]
    held_out: tuple[Demonstration, ...]

    def without_messages(self) -> AuthorSplit:
        return replace(
            self,
            demonstrations=tuple(without_messages(self.demonstrations)),
            held_out=tuple(without_messages(self.held_out)),
        )


def load_corpus(folder: Path, replies: bool = False) -> tuple[dict[str, list[Demonstration]], list[Refusal]]:
    """Every author's texts (any format import_paths reads), authors sorted by folder name. Without ``replies``
    the messages the texts answer are dropped: every method is asked the requests of texts without them."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: give a folder with one subfolder per author")
    authors: dict[str, list[Demonstration]] = {}
    refused: list[Refusal] = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        result = import_paths([sub])
        refused += result.refused
        texts = result.demonstrations if replies else without_messages(result.demonstrations)
        unique, _ = split_new([], texts)
        if unique:
            authors[sub.name] = unique
    if len(authors) < 2:
        raise InputError(f"{folder} needs at least two author folders with texts; found {len(authors)}")
    return authors, refused


def without_messages(demos: Sequence[Demonstration]) -> list[Demonstration]:
    """The texts as if none answered a message: asked today's requests, not a reply request."""
    return [replace(d, context="", context_sender="", context_below=False) for d in demos]


def split_corpus(authors: dict[str, list[Demonstration]], k: int, seed: int) -> list[AuthorSplit]:
    if not 1 <= k <= MAX_DEMONSTRATIONS:
        raise UsageError(f"--k must be between 1 and {MAX_DEMONSTRATIONS}, got {k}")
    return [split_author(name, demos, k, seed) for name, demos in authors.items()]


def split_author(author: str, demos: Sequence[Demonstration], k: int, seed: int) -> AuthorSplit:
    """``k`` demonstrations chosen by a seeded shuffle; the rest (at least one) held out."""
    if len(demos) <= k:
        raise InputError(f"author {author!r} has {len(demos)} texts: need more than k={k} to hold some out")
    ordered = sorted(demos, key=lambda d: (d.source, d.text))  # independent of the import order
    # The author's name seeds the shuffle too, so authors do not all lose the same file positions.
    rng = random.Random(f"{seed}:{author}")
    chosen = set(rng.sample(range(len(ordered)), k))
    return AuthorSplit(
        author=author,
        demonstrations=tuple(d for i, d in enumerate(ordered) if i in chosen),
        held_out=tuple(d for i, d in enumerate(ordered) if i not in chosen),
    )


def text_digest(demos: Sequence[Demonstration]) -> str:
    """A short hash of (prompt, text) pairs: what a cached result was computed from."""
    h = hashlib.sha256()
    for d in demos:
        h.update(d.prompt.encode() + b"\0" + d.text.encode() + b"\1")
    return h.hexdigest()[:16]
