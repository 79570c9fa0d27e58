"""The style judge on authors whose answer is known, and the win-rate arithmetic by hand."""

from __future__ import annotations

import random

import pytest
from eval_fixtures import TOPICS, styled_text

from ditto_desk.core.evaluation.judge import StyleJudge, distort
from ditto_desk.core.evaluation.winrate import (
    average_win_rates,
    binomial_p_above_chance,
    head_to_head,
    mean_and_se,
    prompt_win,
    win_matrix,
)

STYLES = ("shouter", "dasher", "formal")


def _texts(topic_of: dict[str, str], per_author: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, authors = [], []
    for style in STYLES:
        for _ in range(per_author):
            texts.append(styled_text(style, TOPICS[topic_of[style]], rng))
            authors.append(style)
    return texts, authors


@pytest.mark.parametrize("masked", [False, True])
def test_the_judge_tells_very_different_styles_apart(masked: bool) -> None:
    same_topics = {s: t for s, t in zip(STYLES, TOPICS, strict=False)}
    train, train_authors = _texts(same_topics, 4, seed=1)
    test, test_authors = _texts(same_topics, 3, seed=2)
    judge = StyleJudge(masked=masked).fit(train, train_authors)
    assert judge.accuracy(test, test_authors) == 1.0
    probs = judge.probabilities(test)
    assert probs.shape == (len(test), 3)
    shouter = judge.authors.index("shouter")
    assert probs[0, shouter] > 0.4  # flat-ish with few texts, but the right one leads


def test_the_masked_judge_follows_style_when_the_topic_changes_hands() -> None:
    """Each author trains on one topic, then writes on another author's: topic must not decide."""
    topics = list(TOPICS)
    train, train_authors = _texts(dict(zip(STYLES, topics, strict=True)), 4, seed=3)
    rotated = dict(zip(STYLES, topics[1:] + topics[:1], strict=True))
    test, test_authors = _texts(rotated, 3, seed=4)
    masked = StyleJudge(masked=True).fit(train, train_authors)
    assert masked.accuracy(test, test_authors) == 1.0


def test_distortion_keeps_function_words_punctuation_and_lengths() -> None:
    assert distort("The Heathcliff  was, in 1801, at the door!") == "The **********  was, in ####, at the ****!"
    assert distort("don't") == "*****"  # not a function word in the list: masked whole


def test_the_judge_needs_two_authors() -> None:
    with pytest.raises(ValueError):
        StyleJudge().fit(["a text", "another"], ["x", "x"])


# ----- win rates, computed by hand -----


def test_prompt_win_counts_all_sample_pairs_and_ties_half() -> None:
    assert prompt_win([0.9], [0.1]) == 1.0
    assert prompt_win([0.1], [0.9]) == 0.0
    assert prompt_win([0.5], [0.5]) == 0.5
    # 0.9 beats both; 0.3 ties 0.3 and loses to 0.6: (1 + 1 + 0.5 + 0) / 4
    assert prompt_win([0.9, 0.3], [0.3, 0.6]) == pytest.approx(0.625)


def test_average_win_rates_by_hand() -> None:
    scores = {
        "a": [[0.9], [0.2]],
        "b": [[0.5], [0.2]],
        "c": [[0.1], [0.6]],
    }
    # prompt 1: a beats b and c; b beats c. prompt 2: a ties b, both lose to c.
    matrix = win_matrix(scores)
    assert matrix["a"] == {"b": pytest.approx((1 + 0.5) / 2), "c": pytest.approx((1 + 0) / 2)}
    assert matrix["b"]["a"] == pytest.approx((0 + 0.5) / 2)
    assert matrix["c"]["a"] == pytest.approx(0.5) and matrix["c"]["b"] == pytest.approx(0.5)
    rates = average_win_rates(scores)
    # per prompt, against the two others: a: 1.0, 0.25 -> 0.625; b: 0.5, 0.25 -> 0.375; c: 0.0, 1.0 -> 0.5
    assert rates["a"][0] == pytest.approx(0.625)
    assert rates["b"][0] == pytest.approx(0.375)
    assert rates["c"][0] == pytest.approx(0.5)
    assert sum(r for r, _ in rates.values()) == pytest.approx(1.5)  # every game gives out exactly one win
    assert rates["c"][1] == pytest.approx(0.5)  # SE of [0, 1]: sd 0.707 / sqrt(2)
    # a against b alone: prompt 1 won, prompt 2 tied -> 0.75, SE of [1, 0.5] = 0.25
    assert head_to_head(scores, "a", "b") == (pytest.approx(0.75), pytest.approx(0.25))


def test_identical_methods_split_every_game() -> None:
    same = [[0.4, 0.7], [0.2, 0.2]]
    rates = average_win_rates({"x": same, "y": same})
    assert rates["x"][0] == pytest.approx(0.5) and rates["y"][0] == pytest.approx(0.5)


def test_win_rates_refuse_mismatched_prompts() -> None:
    with pytest.raises(ValueError):
        win_matrix({"a": [[0.1]], "b": [[0.1], [0.2]]})


def test_mean_se_and_binomial() -> None:
    assert mean_and_se([1.0]) == (1.0, 0.0)
    assert binomial_p_above_chance(0, 5, 0.5) == pytest.approx(1.0)
    assert binomial_p_above_chance(5, 5, 0.5) == pytest.approx(1 / 32)
    # 8 of 12 at chance 1/3 is significant at 5 %, 7 of 12 is not
    assert binomial_p_above_chance(8, 12, 1 / 3) < 0.05 < binomial_p_above_chance(7, 12, 1 / 3)


def test_the_judge_tells_the_shipped_corpus_authors_apart() -> None:
    """Without this the README's evaluation table would be meaningless (the report says so too)."""
    from pathlib import Path

    from ditto_desk.core.evaluation.corpus import load_corpus, split_corpus
    from ditto_desk.core.evaluation.report import judge_check

    corpus = Path(__file__).resolve().parent.parent / "resources" / "corpus"
    splits = split_corpus(load_corpus(corpus)[0], k=4, seed=0)
    judge = StyleJudge().fit(
        [d.text for s in splits for d in s.demonstrations], [s.author for s in splits for _ in s.demonstrations]
    )
    check = judge_check(
        judge, [d.text for s in splits for d in s.held_out], [s.author for s in splits for _ in s.held_out]
    )
    assert len(splits) >= 3 and check["meaningful"], check
