"""Drawing DITTO's samples from the current policy, fast: many sequences in one left-padded batch with the
KV cache, each prompt capped by the length of its own demonstration, batches grouped by cap so that no
row waits for a longer one, and a batch ends as soon as every row has reached EOS (the reference code's
pipeline used batch 2 and 1024 new tokens for every prompt)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ditto_desk.core.models.chat import trim_generated
from ditto_desk.core.models.decoding import TOP_K, decoding_arguments, merged_for_generation
from ditto_desk.core.progress import CancelToken, Phase
from ditto_desk.core.training.config import TrainingConfig
from ditto_desk.core.training.examples import TrainingSet
from ditto_desk.core.training.report import COST_GENERATED_TOKEN, SAMPLED_SHARE, RunReport


@dataclass(frozen=True)
class Sample:
    example: int  # index of the prompt (training example) it answers
    round: int
    ids: tuple[int, ...]
    cut: bool  # stopped by the length cap rather than by EOS


def left_padded(prompts: Sequence[Sequence[int]], pad_id: int, device: Any) -> dict[str, torch.Tensor]:
    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, ids in enumerate(prompts):
        input_ids[row, width - len(ids) :] = torch.tensor(ids)
        attention[row, width - len(ids) :] = 1
    return {"input_ids": input_ids.to(device), "attention_mask": attention.to(device)}


def seed_for(*parts: object) -> int:
    """A stable torch seed from any parts (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:4], "little")


@torch.no_grad()
def draw_samples(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    counts: int | Sequence[int],
    max_new_tokens: int | Sequence[int],
    temperature: float,
    batch_size: int,
    round_index: int,
    cancel: CancelToken | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    seed: int | None = None,
    **sampling: Any,
) -> list[Sample]:
    """``counts`` samples for every prompt (one number for all, or one per prompt), in prompt order.

    ``max_new_tokens`` is one cap for all, or one per prompt. Rows are batched (up to ``batch_size``)
    longest cap first, so a batch's rows have similar caps; generation stops once every row has ended.
    With ``seed``, each batch draws from its own fixed seed, so two models given the same prompts meet the
    same random numbers. ``top_k``, ``top_p`` and ``repetition_penalty`` go to :func:`decoding_arguments`,
    the rest of ``sampling`` to ``generate`` (min_new_tokens, ...). The active LoRA adapter is merged while
    drawing, for speed.
    ``on_batch(done, total)`` reports after each batch; the cancel flag is checked between batches (and,
    through ``cancel_checkpoints``, inside them).
    """
    caps = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    per_prompt = [counts] * len(prompts) if isinstance(counts, int) else list(counts)
    jobs = [i for i in range(len(prompts)) for _ in range(per_prompt[i])]
    order = sorted(range(len(jobs)), key=lambda j: -caps[jobs[j]])  # stable: prompt order within a cap
    top_k, top_p = sampling.pop("top_k", TOP_K), sampling.pop("top_p", 1.0)
    repetition_penalty = sampling.pop("repetition_penalty", 1.0)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    drawn: dict[int, Sample] = {}
    with merged_for_generation(model):
        for batch_index, start in enumerate(range(0, len(order), batch_size)):
            if cancel is not None:
                cancel.raise_if_cancelled()
            chunk = order[start : start + batch_size]
            batch = left_padded([prompts[jobs[j]] for j in chunk], tokenizer.pad_token_id, device)
            if seed is not None:
                torch.manual_seed(seed_for(seed, batch_index))
            width = batch["input_ids"].shape[1]
            out = model.generate(
                **batch,
                **decoding_arguments(temperature, top_k, top_p, repetition_penalty, prompt_length=width),
                max_new_tokens=max(caps[jobs[j]] for j in chunk),
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
                **sampling,
            )
            for row, j in enumerate(chunk):
                example = jobs[j]
                generated = out[row, width:].tolist()[: caps[example]]
                ids, cut = trim_generated(generated, tokenizer.eos_token_id, tokenizer.pad_token_id)
                drawn[j] = Sample(example, round_index, ids, cut)
            if on_batch is not None:
                on_batch(len(drawn), len(jobs))
    model.train(was_training)
    return [drawn[j] for j in range(len(jobs))]


def sample_round(
    model: Any,
    tokenizer: Any,
    training: TrainingSet,
    counts: Sequence[int],
    config: TrainingConfig,
    round_index: int,
    report: RunReport,
    cancel: CancelToken,
) -> list[Sample]:
    """One round of DITTO's samples: ``counts[e]`` for each example ``e`` of ``training``, each capped at its
    example's cap, reported as they are drawn and logged as the round's entry of the training log."""
    total = sum(counts)
    message = f"Round {round_index + 1} of {config.n_rounds}: drawing {total} samples"
    report.emit(Phase.SAMPLE, message, 0, total)
    seq_cost = sum(n * cap for n, cap in zip(counts, training.caps, strict=True)) / total * SAMPLED_SHARE
    drawn_before = [0]

    def on_batch(done: int, total: int) -> None:
        report.clock.advance((done - drawn_before[0]) * seq_cost * COST_GENERATED_TOKEN)
        report.stats.samples_drawn += done - drawn_before[0]
        drawn_before[0] = done
        report.emit(Phase.SAMPLE, message, done, total)

    start = time.monotonic()
    samples = draw_samples(
        model,
        tokenizer,
        training.prompts,
        counts,
        training.caps,
        config.temperature,
        config.sample_batch_size,
        round_index,
        cancel,
        on_batch,
        **config.sampling(),
    )
    cut = sum(s.cut for s in samples)
    report.stats.samples_cut += cut
    report.stats.log.append(
        {
            "phase": Phase.SAMPLE,
            "round": round_index + 1,
            "samples": len(samples),
            "cut_at_cap": cut,
            "tokens": sum(len(s.ids) for s in samples),
            "seconds": time.monotonic() - start,
            "elapsed": report.clock.elapsed,
        }
    )
    return samples
