"""Log-likelihoods of responses, token by token or summed, for the DPO reference and for evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ditto_desk.core.models.chat import Encoded
from ditto_desk.core.progress import CancelToken


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


_POSITIONS = 256  # positions per log-softmax in response_token_logprobs


def _token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The target tokens' log-probs, position by position (targets of -100 count 0)."""
    token_logps = -F.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100, reduction="none"
    )
    return token_logps.view(targets.shape)


def response_logprobs(
    model: Any,
    examples: Sequence[Encoded],
    pad_id: int,
    batch_size: int = 1,
    cancel: CancelToken | None = None,
) -> list[tuple[float, int]]:
    """(sum of the response tokens' log-probs, number of response tokens) for each example."""
    return [(sum(t), len(t)) for t in response_token_logprobs(model, examples, pad_id, batch_size, cancel)]


@torch.no_grad()
def response_token_logprobs(
    model: Any,
    examples: Sequence[Encoded],
    pad_id: int,
    batch_size: int = 1,
    cancel: CancelToken | None = None,
) -> list[tuple[float, ...]]:
    """Each example's response tokens' log-probs, in order.

    One example per forward pass by default, and the log-softmax taken over a few hundred positions at a time: the
    fp32 log-softmax over the 49k vocabulary of 4 rows of 2,000 tokens would take gigabytes (the evaluation's
    held-out emails run that long), and batching bought little on the CPU.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    # Longest first keeps the padding in each batch small.
    order = sorted(range(len(examples)), key=lambda i: -examples[i].length)
    by_index: dict[int, tuple[float, ...]] = {}
    for start in range(0, len(order), batch_size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = order[start : start + batch_size]
        batch = pad_batch([examples[i] for i in chunk], pad_id, device)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
        targets = batch["labels"][:, 1:]
        token_logps = torch.cat(
            [
                _token_logprobs(logits[:, i : i + _POSITIONS], targets[:, i : i + _POSITIONS])
                for i in range(0, targets.shape[1], _POSITIONS)
            ],
            dim=1,
        )
        for row, i in enumerate(chunk):
            by_index[i] = tuple(token_logps[row][targets[row] != -100].tolist())
    results = [by_index[i] for i in range(len(examples))]
    model.train(was_training)
    return results
