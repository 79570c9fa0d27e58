"""DITTO's comparison pairs: the user's text beats the model's samples, later samples beat earlier ones.

Everything is keyed by the training example's index (a demonstration, or one segment of a long one),
never by its prompt string, so two demonstrations with the same prompt stay two; and all state lives in
the caller's ``SamplePool``, so two trainings in one process share nothing (both were flaws of the
reference code).

The shares (0.7 expert / 0.2 replay / 0.1 inter-model) hold over each round's pairs, not per DPO step:
split per step, a batch of 4 pairs rounds to 3 / 1 / 0 and inter-model pairs never happen. The
reference code draws round(3 · n · share) of each kind per step, which also rounds small shares away.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ditto_desk.core.training.sampling import Sample

EXPERT, REPLAY, INTER_MODEL = "expert", "replay", "inter_model"
KINDS = (EXPERT, REPLAY, INTER_MODEL)
EDIT = "edit"  # a taught edit: the user's edited text > the draft it corrected (teach.py)
UPDATE_KINDS = (*KINDS, EDIT)


@dataclass(frozen=True)
class Pair:
    example: int
    chosen: tuple[int, ...]
    rejected: tuple[int, ...]
    kind: str


@dataclass
class SamplePool:
    """Every round's samples, per example: ``rounds[r][example]`` is S_r for that example (maybe empty:
    a long text's samples are spread over its segments, round by round)."""

    n_examples: int
    rounds: list[dict[int, list[Sample]]] = field(default_factory=list)

    def add_round(self, samples: Sequence[Sample]) -> None:
        index = len(self.rounds)
        by_example: dict[int, list[Sample]] = {e: [] for e in range(self.n_examples)}
        for s in samples:
            if s.round != index:
                raise ValueError(f"sample of round {s.round} added as round {index}")
            by_example[s.example].append(s)
        self.rounds.append(by_example)

    def rounds_with_samples(self, example: int) -> list[int]:
        return [r for r, by_example in enumerate(self.rounds) if by_example[example]]


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


def _eligible(pool: SamplePool, kind: str) -> list[int]:
    """Examples that can give a pair of ``kind`` now."""
    latest = len(pool.rounds) - 1
    result = []
    for example in range(pool.n_examples):
        rounds = pool.rounds_with_samples(example)
        if kind == EXPERT:
            ok = latest in rounds
        elif kind == REPLAY:
            ok = any(r < latest for r in rounds)
        else:
            ok = len(rounds) >= 2
        if ok:
            result.append(example)
    return result


def build_round_pairs(
    rng: random.Random,
    responses: Sequence[tuple[int, ...]],
    pool: SamplePool,
    n_pairs: int,
    shares: dict[str, float],
) -> list[Pair]:
    """``n_pairs`` pairs for one round, in the given shares, shuffled; the latest round is the pool's last.

    In the first round only expert pairs exist (replay and inter-model need an earlier round); a kind that
    no example can give yet hands its count to the expert pairs.
    """
    if not pool.rounds:
        raise ValueError("no samples yet: sample a round before building pairs")
    eligible = {kind: _eligible(pool, kind) for kind in KINDS}
    if not eligible[EXPERT]:
        raise ValueError("the latest round has no samples")
    usable = {kind: share for kind, share in shares.items() if share > 0 and eligible[kind]}
    counts = split_by_shares(n_pairs, usable)
    latest = len(pool.rounds) - 1
    pairs: list[Pair] = []
    for kind, count in counts.items():
        examples = list(eligible[kind])
        for i in range(count):
            # Cycle through the examples so each gets its share, in a shuffled order.
            if i % len(examples) == 0:
                rng.shuffle(examples)
            e = examples[i % len(examples)]
            rounds = pool.rounds_with_samples(e)
            if kind == EXPERT:
                pairs.append(Pair(e, responses[e], rng.choice(pool.rounds[latest][e]).ids, kind))
            elif kind == REPLAY:
                earlier = rng.choice([r for r in rounds if r < latest])
                pairs.append(Pair(e, responses[e], rng.choice(pool.rounds[earlier][e]).ids, kind))
            else:
                older, newer = sorted(rng.sample(rounds, 2))
                chosen = rng.choice(pool.rounds[newer][e]).ids
                pairs.append(Pair(e, chosen, rng.choice(pool.rounds[older][e]).ids, kind))
    rng.shuffle(pairs)
    return pairs


def pairs_in_shares(
    rng: random.Random, candidates: Mapping[str, Sequence[Pair]], n_pairs: int, shares: dict[str, float]
) -> list[Pair]:
    """``n_pairs`` pairs drawn from each kind's candidates in the given shares, shuffled. Each kind cycles
    through its candidates in a shuffled order, so each is used before any is used twice; a kind without
    candidates hands its share to the others."""
    usable = {kind: share for kind, share in shares.items() if share > 0 and candidates.get(kind)}
    if not usable:
        raise ValueError("no pairs to train on")
    pairs: list[Pair] = []
    for kind, count in split_by_shares(n_pairs, usable).items():
        pool = list(candidates[kind])
        for i in range(count):
            if i % len(pool) == 0:
                rng.shuffle(pool)
            pairs.append(pool[i % len(pool)])
    rng.shuffle(pairs)
    return pairs


def count_kinds(pairs: Sequence[Pair], kinds: Sequence[str] = KINDS) -> dict[str, int]:
    """How many pairs of each kind, every kind named (the training log's ``pairs`` entry)."""
    counts = Counter(p.kind for p in pairs)
    return {kind: counts.get(kind, 0) for kind in kinds}
