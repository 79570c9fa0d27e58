"""Summed and per-token log-likelihoods of responses, for the DPO reference and for evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .chat import Encoded
from .progress import CancelToken


def pad_batch(examples: Sequence[Encoded], pad_id: int, device: Any) -> dict[str, torch.Tensor]:
    """Right-padded input ids, attention mask, and labels that score only response tokens."""
    width = max(e.length for e in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    for row, e in enumerate(examples):
        ids = list(e.prompt_ids) + list(e.response_ids)
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        labels[row, len(e.prompt_ids) : len(ids)] = torch.tensor(e.response_ids)
    return {"input_ids": input_ids.to(device), "attention_mask": attention.to(device), "labels": labels.to(device)}


@torch.no_grad()
def response_logprobs(
    model: Any,
    examples: Sequence[Encoded],
    pad_id: int,
    batch_size: int = 1,
    cancel: CancelToken | None = None,
) -> list[tuple[float, int]]:
    """(sum of the response tokens' log-probs, number of response tokens) for each example.

    Scored by trl's fused head (models.py adds it), as trl's DPO scores the policy, so the two agree. One example
    per forward pass by default: batching bought little on the CPU.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    # Longest first keeps the padding in each batch small.
    order = sorted(range(len(examples)), key=lambda i: -examples[i].length)
    by_index: dict[int, tuple[float, int]] = {}
    for start in range(0, len(order), batch_size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = order[start : start + batch_size]
        batch = pad_batch([examples[i] for i in chunk], pad_id, device)
        token_logps = model(**batch, fused_lm_head=True).log_probs  # 0 where the label is -100
        sums = token_logps.float().sum(dim=1).tolist()
        counts = (batch["labels"][:, 1:] != -100).sum(dim=1).tolist()
        for i, s, n in zip(chunk, sums, counts, strict=True):
            by_index[i] = (float(s), int(n))
    results = [by_index[i] for i in range(len(examples))]
    model.train(was_training)
    return results


def mean_token_loglik(model: Any, examples: Sequence[Encoded], pad_id: int, batch_size: int = 4) -> float:
    """Mean per-token log-likelihood of the responses, pooled over all their tokens."""
    scored = response_logprobs(model, examples, pad_id, batch_size)
    total = sum(s for s, _ in scored)
    tokens = sum(n for _, n in scored)
    return total / max(tokens, 1)
