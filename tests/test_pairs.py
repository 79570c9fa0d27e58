"""DITTO's comparison pairs: shares, first round expert-only, demonstrations kept apart."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from ditto_desk.core.pairs import EXPERT, INTERMODEL, REPLAY, SamplePool, build_pairs, split_by_shares
from ditto_desk.core.sampling import Sample

SHARES = {"expert": 0.7, "replay": 0.2, "intermodel": 0.1}


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
    pairs = build_pairs(random.Random(0), demo_texts(4), pool, 20, SHARES)
    assert len(pairs) == 20
    assert {p.kind for p in pairs} == {EXPERT}
    for p in pairs:
        assert p.chosen == (7, p.demo_index)  # the user's own text wins
        assert p.rejected[:2] == (1000, p.demo_index)  # against a sample for the same demonstration


def test_later_rounds_mix_expert_replay_and_intermodel_in_the_spec_shares() -> None:
    pool = pool_with_rounds(4, 3)
    pairs = build_pairs(random.Random(1), demo_texts(4), pool, 10, SHARES)
    assert Counter(p.kind for p in pairs) == {EXPERT: 7, REPLAY: 2, INTERMODEL: 1}
    latest = 1002
    for p in pairs:
        if p.kind == EXPERT:
            assert p.chosen == (7, p.demo_index) and p.rejected[0] == latest
        elif p.kind == REPLAY:
            assert p.chosen == (7, p.demo_index) and p.rejected[0] < latest
        else:  # a later round's sample beats an earlier round's, same demonstration
            assert p.chosen[0] > p.rejected[0]
            assert p.chosen[1] == p.rejected[1] == p.demo_index


def test_demonstrations_with_the_same_prompt_stay_apart() -> None:
    # Two demonstrations answering one prompt: pairs are keyed by index, never by the prompt string.
    pool = pool_with_rounds(2, 2)
    texts = [(5, 5, 5), (6, 6, 6)]
    pairs = build_pairs(random.Random(2), texts, pool, 40, SHARES)
    for p in pairs:
        if p.kind != INTERMODEL:
            assert p.chosen == texts[p.demo_index]
        assert p.rejected[1] == p.demo_index
    assert {p.demo_index for p in pairs} == {0, 1}


def test_two_pools_share_nothing() -> None:
    first, second = pool_with_rounds(2, 2), SamplePool(3)
    second.add_round([Sample(d, 0, (2000, d), cut=False) for d in range(3)])
    pairs = build_pairs(random.Random(3), demo_texts(3), second, 30, SHARES)
    assert all(p.rejected[0] == 2000 for p in pairs)
    assert len(first.all_samples()) == 12 and len(second.all_samples()) == 3


def test_a_sample_from_the_wrong_round_is_refused() -> None:
    pool = SamplePool(1)
    try:
        pool.add_round([Sample(0, 1, (1,), cut=False)])
    except ValueError:
        return
    raise AssertionError("a round-1 sample was accepted as round 0")
