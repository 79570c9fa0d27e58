"""DITTO's comparison pairs: the user's text beats the model's samples, later samples beat earlier ones.

Everything is keyed by the demonstration's index, never by its prompt string, so two demonstrations
with the same prompt stay two; and all state lives in the caller's ``SamplePool``, so two trainings
in one process share nothing (both were flaws of the reference code).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from .sampling import Sample

EXPERT, REPLAY, INTERMODEL = "expert", "replay", "intermodel"


@dataclass(frozen=True)
class Pair:
    demo_index: int
    chosen: tuple[int, ...]
    rejected: tuple[int, ...]
    kind: str


@dataclass
class SamplePool:
    """Every round's samples, per demonstration: ``rounds[r][demo_index]`` is S_r for that demonstration."""

    n_demos: int
    rounds: list[dict[int, list[Sample]]] = field(default_factory=list)

    def add_round(self, samples: Sequence[Sample]) -> None:
        index = len(self.rounds)
        by_demo: dict[int, list[Sample]] = {d: [] for d in range(self.n_demos)}
        for s in samples:
            if s.round != index:
                raise ValueError(f"sample of round {s.round} added as round {index}")
            by_demo[s.demo_index].append(s)
        self.rounds.append(by_demo)

    def all_samples(self) -> list[Sample]:
        return [s for r in self.rounds for per_demo in r.values() for s in per_demo]


def split_by_shares(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total`` pairs among kinds in proportion to their shares (largest remainder, so they add up)."""
    weight = sum(shares.values())
    if total <= 0 or weight <= 0:
        return {kind: 0 for kind in shares}
    exact = {kind: total * share / weight for kind, share in shares.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    leftovers = sorted(shares, key=lambda k: (exact[k] - counts[k], shares[k]), reverse=True)
    for kind in leftovers[: total - sum(counts.values())]:
        counts[kind] += 1
    return counts


def available_shares(n_rounds: int, expert: float, replay: float, intermodel: float) -> dict[str, float]:
    """Replay and inter-model pairs need an earlier round: in the first round only expert pairs exist."""
    shares = {EXPERT: expert}
    if n_rounds >= 2:
        shares[REPLAY] = replay
        shares[INTERMODEL] = intermodel
    return {k: v for k, v in shares.items() if v > 0}


def build_pairs(
    rng: random.Random,
    demo_responses: Sequence[tuple[int, ...]],
    pool: SamplePool,
    n_pairs: int,
    shares: dict[str, float],
) -> list[Pair]:
    """``n_pairs`` pairs drawn in the given shares from the pool's rounds (the latest round is the last)."""
    latest = len(pool.rounds) - 1
    if latest < 0:
        raise ValueError("no samples yet: sample a round before building pairs")
    counts = split_by_shares(n_pairs, available_shares(len(pool.rounds), **shares))
    demos = list(range(len(demo_responses)))
    pairs: list[Pair] = []
    for kind, count in counts.items():
        for i in range(count):
            # Cycle through the demonstrations so each gets its share, in a shuffled order.
            if i % len(demos) == 0:
                rng.shuffle(demos)
            d = demos[i % len(demos)]
            if kind == EXPERT:
                pairs.append(Pair(d, demo_responses[d], rng.choice(pool.rounds[latest][d]).ids, kind))
            elif kind == REPLAY:
                earlier = rng.randrange(latest)
                pairs.append(Pair(d, demo_responses[d], rng.choice(pool.rounds[earlier][d]).ids, kind))
            else:
                older, newer = sorted(rng.sample(range(latest + 1), 2))
                chosen = rng.choice(pool.rounds[newer][d]).ids
                rejected = rng.choice(pool.rounds[older][d]).ids
                pairs.append(Pair(d, chosen, rejected, kind))
    rng.shuffle(pairs)
    return pairs
