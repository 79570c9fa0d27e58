"""Pairwise win rates, as in the paper: for each test prompt and each pair of methods, the output the
judge finds closer to the author wins; ties count half.

With several samples per prompt, every sample of one method meets every sample of the other (all
pairs, so the estimate of "A beats B on this prompt" uses all the samples), and each prompt weighs
the same. Scores are the judge's probability for the true author.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

TIE_TOLERANCE = 1e-12

# scores[method][prompt] = one score per sample
Scores = Mapping[str, Sequence[Sequence[float]]]


def prompt_win(a: Sequence[float], b: Sequence[float]) -> float:
    """Share of sample pairs (one from a, one from b) that a wins, ties counting half."""
    if not a or not b:
        raise ValueError("each method needs at least one sample per prompt")
    total = 0.0
    for x in a:
        for y in b:
            total += 0.5 if abs(x - y) <= TIE_TOLERANCE else float(x > y)
    return total / (len(a) * len(b))


def _check(scores: Scores) -> int:
    counts = {len(per_prompt) for per_prompt in scores.values()}
    if len(counts) != 1:
        raise ValueError("every method must be scored on the same prompts")
    return counts.pop()


def win_matrix(scores: Scores) -> dict[str, dict[str, float]]:
    """matrix[a][b]: a's win rate against b, averaged over prompts (``head_to_head``'s mean)."""
    _check(scores)
    methods = list(scores)
    return {a: {b: head_to_head(scores, a, b)[0] for b in methods if b != a} for a in methods}


def head_to_head(scores: Scores, a: str, b: str) -> tuple[float, float]:
    """a's win rate against b alone: (mean over prompts, its standard error). DITTO against SFT is what the
    DPO phase adds; this standard error, not the spread of two methods' averages, says whether a lead is real."""
    n = _check(scores)
    return mean_and_se([prompt_win(scores[a][p], scores[b][p]) for p in range(n)])


def average_win_rates(scores: Scores) -> dict[str, tuple[float, float]]:
    """Each method's win rate against all the others: (mean over prompts, its standard error)."""
    n = _check(scores)
    methods = list(scores)
    if len(methods) < 2:
        raise ValueError("win rates need at least two methods")
    result: dict[str, tuple[float, float]] = {}
    for a in methods:
        per_prompt = [
            sum(prompt_win(scores[a][p], scores[b][p]) for b in methods if b != a) / (len(methods) - 1)
            for p in range(n)
        ]
        result[a] = mean_and_se(per_prompt)
    return result


def mean_and_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (0 for a single value)."""
    if not values:
        return float("nan"), float("nan")
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))


def binomial_p_above_chance(successes: int, trials: int, chance: float) -> float:
    """One-sided exact binomial test: P(X >= successes) when each trial succeeds with ``chance``."""
    from scipy.stats import binomtest  # scipy comes with scikit-learn, which the judge needs anyway

    return float(binomtest(successes, trials, chance, alternative="greater").pvalue)
