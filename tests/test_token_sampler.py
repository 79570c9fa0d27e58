"""The sampler that replaces transformers' full-vocabulary draw: the same distribution, from the top only."""

from __future__ import annotations

import pytest
import torch
from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from ditto_desk.core.models.decoding import TopTokenSampler, decoding_arguments


def transformers_distribution(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """The distribution generate(do_sample=True) draws from, built with transformers' own warpers."""
    scores = logits.unsqueeze(0)
    for warper in (TemperatureLogitsWarper(temperature), TopKLogitsWarper(top_k), TopPLogitsWarper(top_p)):
        scores = warper(None, scores)
    return scores.softmax(-1)[0]


@pytest.mark.parametrize(("temperature", "top_k", "top_p"), [(1.0, 50, 1.0), (0.7, 50, 0.9), (1.3, 8, 1.0)])
def test_tokens_come_from_the_distribution_transformers_samples(temperature, top_k, top_p) -> None:
    torch.manual_seed(0)
    logits = torch.randn(200) * 2.5
    expected = transformers_distribution(logits, temperature, top_k, top_p)
    rows = 40_000
    picked = TopTokenSampler(temperature, top_k, top_p)(None, logits.expand(rows, -1).clone())
    tokens = picked.argmax(-1)
    assert bool((picked.isfinite().sum(-1) == 1).all()), "each row keeps exactly one token"
    observed = torch.bincount(tokens, minlength=200).float() / rows
    assert bool((expected[tokens] > 0).all()), "no token from outside top-k / top-p"
    assert (observed - expected).abs().max().item() < 0.01


def test_temperature_zero_decodes_greedily() -> None:
    greedy = decoding_arguments(0.0)
    assert greedy["do_sample"] is False and not greedy["logits_processor"]
    sampled = decoding_arguments(0.8, 20, 0.9)
    assert sampled["do_sample"] is False and isinstance(sampled["logits_processor"][0], TopTokenSampler)
    with pytest.raises(ValueError):
        TopTokenSampler(0.0)


def test_the_repetition_penalty_spares_the_prompt_and_so_the_end_of_turn_token() -> None:
    """Every chat prompt holds the end-of-turn token (the model's EOS): a penalty that counted the prompt kept
    drafts from ending. Only what the draft itself repeats is penalised."""
    eos, repeated = 2, 7
    (penalty,) = decoding_arguments(0.0, repetition_penalty=2.0, prompt_length=3)["logits_processor"]
    ids = torch.tensor([[5, eos, 9, repeated, 8]])  # a 3-token prompt, then two generated tokens
    scores = penalty(ids, torch.full((1, 12), 4.0))
    assert scores[0, eos] == 4.0 and scores[0, 5] == 4.0  # in the prompt only: untouched
    assert scores[0, repeated] == 2.0 and scores[0, 8] == 2.0  # generated: penalised
