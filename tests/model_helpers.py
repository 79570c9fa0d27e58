"""Helpers for the tests that check what a trained model learned (no tests here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ditto_desk.core.models.chat import Encoded
from ditto_desk.core.models.scoring import response_logprobs


def mean_token_loglik(model: Any, examples: Sequence[Encoded], pad_id: int, batch_size: int = 4) -> float:
    """Mean per-token log-likelihood of the responses, pooled over all their tokens."""
    scored = response_logprobs(model, examples, pad_id, batch_size)
    total = sum(s for s, _ in scored)
    tokens = sum(n for _, n in scored)
    return total / max(tokens, 1)
