"""DITTO's comparison pairs: shares, first round expert-only, demonstrations kept apart."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ditto_desk.core.training.pairs import (
    EXPERT,
    INTER_MODEL,
    REPLAY,
    SamplePool,
    build_round_pairs,
    count_kinds,
    split_by_shares,
)
from ditto_desk.core.training.sampling import Sample

SHARES = {EXPERT: 0.7, REPLAY: 0.2, INTER_MODEL: 0.1}


def pool_with_rounds(n_demos: int, n_rounds: int, per_demo: int = 3) -> SamplePool:
    pool = SamplePool(n_demos)
    for r in range(n_rounds):
        # Token ids encode (round, demo, k) so every pair can be traced back to where it came from.
        pool.add_round([Sample(d, r, (1000 + r, d, k), cut=False) for d in range(n_demos) for k in range(per_demo)])
    return pool


def demo_texts(n: int) -> list[tuple[int, ...]]:
    return [(7, d) for d in range(n)]


@given(st.integers(0, 200), st.lists(st.floats(0.01, 1.0), min_size=1, max_size=3))
def test_split_by_shares_adds_up_and_follows_the_shares(total: int, weights: list[float]) -> None:
    shares = {f"k{i}": w for i, w in enumerate(weights)}
    counts = split_by_shares(total, shares)
    assert sum(counts.values()) == total
    for kind, share in shares.items():
        assert abs(counts[kind] - total * share / sum(weights)) < 1.0


def test_first_round_has_only_expert_pairs() -> None:
    pool = pool_with_rounds(4, 1)
    pairs = build_round_pairs(random.Random(0), demo_texts(4), pool, 20, SHARES)
    assert len(pairs) == 20
    assert {p.kind for p in pairs} == {EXPERT}
    for p in pairs:
        assert p.chosen == (7, p.example)  # the user's own text wins
        assert p.rejected[:2] == (1000, p.example)  # against a sample for the same demonstration


def test_later_rounds_mix_expert_replay_and_intermodel_in_the_spec_shares() -> None:
    pool = pool_with_rounds(4, 3)
    pairs = build_round_pairs(random.Random(1), demo_texts(4), pool, 10, SHARES)
    assert Counter(p.kind for p in pairs) == {EXPERT: 7, REPLAY: 2, INTER_MODEL: 1}
    latest = 1002
    for p in pairs:
        if p.kind == EXPERT:
            assert p.chosen == (7, p.example) and p.rejected[0] == latest
        elif p.kind == REPLAY:
            assert p.chosen == (7, p.example) and p.rejected[0] < latest
        else:  # a later round's sample beats an earlier round's, same demonstration
            assert p.chosen[0] > p.rejected[0]
            assert p.chosen[1] == p.rejected[1] == p.example


def test_demonstrations_with_the_same_prompt_stay_apart() -> None:
    # Two demonstrations answering one prompt: pairs are keyed by index, never by the prompt string.
    pool = pool_with_rounds(2, 2)
    texts = [(5, 5, 5), (6, 6, 6)]
    pairs = build_round_pairs(random.Random(2), texts, pool, 40, SHARES)
    for p in pairs:
        if p.kind != INTER_MODEL:
            assert p.chosen == texts[p.example]
        assert p.rejected[1] == p.example
    assert {p.example for p in pairs} == {0, 1}


def test_two_pools_share_nothing() -> None:
    first, second = pool_with_rounds(2, 2), SamplePool(3)
    second.add_round([Sample(d, 0, (2000, d), cut=False) for d in range(3)])
    pairs = build_round_pairs(random.Random(3), demo_texts(3), second, 30, SHARES)
    assert all(p.rejected[0] == 2000 for p in pairs)
    assert sum(len(v) for r in first.rounds for v in r.values()) == 12
    assert sum(len(v) for r in second.rounds for v in r.values()) == 3


def test_a_sample_from_the_wrong_round_is_refused() -> None:
    pool = SamplePool(1)
    try:
        pool.add_round([Sample(0, 1, (1,), cut=False)])
    except ValueError:
        return
    raise AssertionError("a round-1 sample was accepted as round 0")


@pytest.mark.parametrize("batch", [1, 3, 4, 6, 8])
def test_shares_hold_over_a_round_for_any_batch_size(batch: int) -> None:
    """Split per step, 4 pairs rounded to 3/1/0: no inter-model pair ever. Over a round's pairs they all occur."""
    pool = pool_with_rounds(4, 2)
    steps = 3
    pairs = build_round_pairs(random.Random(batch), demo_texts(4), pool, steps * batch, SHARES)
    assert count_kinds(pairs) == split_by_shares(steps * batch, SHARES)
    if steps * batch >= 10:
        assert all(n > 0 for n in count_kinds(pairs).values())


def test_a_long_texts_segments_get_pairs_only_where_they_have_samples() -> None:
    # Example 1 (a later segment) was sampled only in round 0, example 0 in both: replay and inter-model
    # pairs need an example that has samples in earlier rounds, expert pairs one with samples now.
    pool = SamplePool(2)
    pool.add_round([Sample(0, 0, (1000, 0, k), cut=False) for k in range(2)] + [Sample(1, 0, (1000, 1), cut=False)])
    pool.add_round([Sample(0, 1, (1001, 0, k), cut=False) for k in range(3)])
    pairs = build_round_pairs(random.Random(4), demo_texts(2), pool, 20, SHARES)
    assert count_kinds(pairs) == {EXPERT: 14, REPLAY: 4, INTER_MODEL: 2}
    assert all(p.example == 0 for p in pairs if p.kind in (EXPERT, INTER_MODEL))
    assert {p.example for p in pairs if p.kind == REPLAY} <= {0, 1}


@pytest.mark.parametrize("name", ["quick", "standard", "paper"])
def test_every_preset_trains_on_all_three_kinds_in_the_spec_shares(name: str) -> None:
    """Round by round as the engine plans it: the first round expert-only, later rounds 0.7 / 0.2 / 0.1."""
    from ditto_desk.core.training.config import preset

    config = preset(name)
    pool, done = SamplePool(4), 0
    for r in range(config.n_rounds):
        pool.add_round([Sample(d, r, (1000 + r, d, k), cut=False) for d in range(4) for k in range(config.n_samples)])
        steps = min(config.resample_every, config.dpo_steps - done)
        pairs = build_round_pairs(random.Random(r), demo_texts(4), pool, steps * config.dpo_batch_size, SHARES)
        counts = count_kinds(pairs)
        assert sum(counts.values()) == steps * config.dpo_batch_size
        if r == 0:
            assert counts[REPLAY] == counts[INTER_MODEL] == 0
        else:
            assert all(n > 0 for n in counts.values()), (name, r, counts)
            for kind, share in SHARES.items():
                assert abs(counts[kind] - share * sum(counts.values())) < 1, (name, r, counts)
        done += steps
