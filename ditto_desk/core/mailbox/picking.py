"""Pick the few of a person's emails that teach the most of how they write.

DITTO learns from fewer than ten texts, so the ones chosen should be the person's usual writing, not their
oddest. Each email is described by a few stylometric features (length, sentence length, punctuation, greeting,
paragraphs, whether it is a reply), standardised over the person's emails. The picks are medoids: greedily, the
email whose choice brings every email closest to a chosen one (the facility-location form of k-medoids; none of
the app's libraries has it, and the greedy form is 20 lines), with a cost for lengths far from the person's
median and for texts that answer no message (a reply with its message teaches what it answers). Each pick comes
with a one-line reason: how many emails it stands for and what they are like.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.words import count_words

DEFAULT_PICKS = 8
# Beyond this many emails the distances are computed over an even sample of them (memory grows with its square).
MAX_CANDIDATES = 2_000
# What a pick's distance from the median length and not being a reply cost, in the features' standard units.
LENGTH_COST = 0.5
NOT_A_REPLY_COST = 0.5

_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|hallo|bonjour)\b", re.I)
# (feature, what a high value reads as, what a low one reads as)
_FEATURES = (
    ("log_words", "long", "short"),
    ("sentence_words", "long sentences", "short sentences"),
    ("lower_starts", "sentences begun in lower case", "sentences begun with capitals"),
    ("exclamations", "many exclamation marks", "few exclamation marks"),
    ("questions", "many questions", "few questions"),
    ("commas", "many commas", "few commas"),
    ("apostrophes", "contractions", "few contractions"),
    ("paragraphs", "many short paragraphs", "few paragraphs"),
    ("greeting", "a greeting", "no greeting"),
    ("reply", "replies", "new emails, not replies"),
)


@dataclass(frozen=True)
class Pick:
    demonstration: Demonstration
    reason: str


def pick_representative(demos: Sequence[Demonstration], count: int = DEFAULT_PICKS) -> list[Pick]:
    """Up to ``count`` of ``demos`` that best stand for all of them, each with why, in the order chosen."""
    if count < 1 or not demos:
        return []
    step = max(1, math.ceil(len(demos) / MAX_CANDIDATES))
    pool = list(demos[::step])
    if len(pool) <= count:
        return [Pick(d, f"one of your {len(demos)} emails: {_words(d)} words") for d in pool]
    raw = np.array([features(d) for d in pool], dtype=np.float64)
    spread = raw.std(axis=0)
    z = (raw - raw.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    squares = (z**2).sum(axis=1)
    distance = np.sqrt(np.maximum(squares[:, None] + squares[None, :] - 2 * z @ z.T, 0.0))
    log_words = raw[:, 0]
    cost = LENGTH_COST * np.abs(log_words - statistics.median(log_words)) / max(float(spread[0]), 1e-9)
    cost += NOT_A_REPLY_COST * (raw[:, -1] == 0)
    chosen = _greedy_medoids(distance, cost * len(pool) / count, count)
    nearest = np.argmin(distance[:, chosen], axis=1)
    picks = []
    for slot, index in enumerate(chosen):
        members = np.flatnonzero(nearest == slot)
        members = members if len(members) else np.array([index])
        picks.append(Pick(pool[index], _reason(pool[index], z[members].mean(axis=0), len(members) * step, len(demos))))
    return picks


def _greedy_medoids(distance: np.ndarray, cost: np.ndarray, count: int) -> list[int]:
    """Add, one at a time, the candidate that most lowers every email's distance to its nearest pick, less its cost."""
    n = len(distance)
    best = np.full(n, distance.max() * 2 + 1.0)  # before any pick, every email is far from all
    chosen: list[int] = []
    for _ in range(count):
        gains = np.maximum(best[None, :] - distance, 0.0).sum(axis=1) - cost
        if chosen:  # an email written alike to one already picked (the same features) adds nothing new
            gains[distance[chosen].min(axis=0) == 0] = -np.inf
        pick = int(np.argmax(gains))
        chosen.append(pick)
        best = np.minimum(best, distance[pick])
    return chosen


def features(demo: Demonstration) -> list[float]:
    """The stylometric features of :data:`_FEATURES`, in order (rates per 100 words)."""
    text = demo.text
    words = max(count_words(text), 1)
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()] or [text]
    starts = [s.lstrip()[:1] for s in sentences if s.strip()]
    per_100 = 100 / words
    return [
        math.log(words),
        words / len(sentences),
        sum(1 for c in starts if c.islower()) / max(len(starts), 1),
        text.count("!") * per_100,
        text.count("?") * per_100,
        text.count(",") * per_100,
        (text.count("'") + text.count("\u2019")) * per_100,
        (text.count("\n\n") + 1) * per_100,
        1.0 if _GREETING.match(text) else 0.0,
        1.0 if demo.context.strip() else 0.0,
    ]


def _reason(demo: Demonstration, cluster_mean: np.ndarray, stands_for: int, total: int) -> str:
    marked = sorted(range(1, len(_FEATURES) - 1), key=lambda i: -abs(cluster_mean[i]))[:2]
    traits = [_FEATURES[i][1] if cluster_mean[i] > 0 else _FEATURES[i][2] for i in marked if abs(cluster_mean[i]) > 0.3]
    kind = f"a reply to {demo.context_sender}" if demo.context_sender else "a reply" if demo.context else "a new email"
    like = f"; they have {' and '.join(traits)}" if traits else ""
    return f"{kind}, {_words(demo)} words, standing for {stands_for} of your {total} emails{like}"


def _words(demo: Demonstration) -> int:
    return count_words(demo.text)
