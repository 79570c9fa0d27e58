"""Before a run: how much memory training a model will take on this machine, whether it fits, and how long
the chosen preset will take. Plain arithmetic on a model's shape (model_catalog.py), the preset and the
texts' lengths, with this machine's speed measured on the loaded model (speed.py).

The counts follow what the engine does (segments, per-text sampling caps, DPO pairs padded to the longer
text); the constants were fitted on measured runs of the quick preset (benchmarks/bench_estimates.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from .config import TrainingConfig, micro_batches
from .model_catalog import CATALOG, CatalogModel, ModelShape

GB = 1024**3
# The bundled sample texts' lengths in the bundled model's tokens: the estimate before there are texts.
SAMPLE_TEXT_TOKENS = (148, 158, 174, 181)
# A request in the chat template, in tokens (the samples' and real emails' prompts run 30-60).
PROMPT_TOKENS = 45
# Python, torch, transformers, trl and peft, loaded: measured 0.52 GB of RSS before any model.
RUNTIME_BYTES = int(0.55 * GB)
CUDA_CONTEXT_BYTES = int(0.5 * GB)
# Bytes per parameter of the layers' weights under each quantization (NF4's blocks carry their scales;
# bitsandbytes leaves the embeddings in 16 bits).
WEIGHT_BYTES = {"nf4": 0.56, "int8": 1.06, "bf16": 2.0, "fp16": 2.0, "none": 4.0}
# Bytes kept per token for the backward pass: per layer without checkpointing (its inputs, attention and MLP
# intermediates in 16 bits), and for the output layer (bf16 logits, their fp32 log-softmax and its gradient).
_ACTIVATION_PER_HIDDEN = 24.0
_ACTIVATION_PER_INTERMEDIATE = 8.0
_LOGIT_BYTES = 10.0
# Forward passes that one training token costs: forward and backward (the LoRA leaves the base weights
# without gradients, so backward is about one forward); checkpointing recomputes the forward once more.
_TRAIN_PASSES = 2.0
_CHECKPOINT_PASSES = 1.0
# Segments shorter than this would cut most paragraphs apart (segments.py splits at paragraph ends).
_MIN_SEGMENT_TOKENS = 96
# Share of sampled rows that run to their cap (bench_quick: 24 of 32); the rest end on their own earlier.
_CUT_SHARE = 0.75


class Fit(str, Enum):
    FITS = "fits"
    TIGHT = "tight"  # within the free memory, without room for other programs
    TOO_BIG = "too big"


@dataclass(frozen=True)
class Speed:
    """Measured on this machine: a forward pass's and sampling's arithmetic rate, in FLOP/s (speed.py)."""

    forward_flops: float
    decode_flops: float  # for rows of the sampling batch size


@dataclass(frozen=True)
class Machine:
    device: str  # "cpu", "cuda" or "mps"
    free_bytes: int  # what training may use: free RAM (CPU, MPS) or free GPU memory (CUDA)
    speed: Speed | None = None  # None until measured: no time estimate then


@dataclass(frozen=True)
class Workload:
    """Token counts of one DITTO run, as the engine will do them."""

    train_tokens: float  # SFT tokens, forward and backward
    decode_row_steps: float  # sampled tokens, counting rows that already ended in a batch still running
    scored_tokens: float  # reference scoring: forward only
    dpo_tokens: float  # DPO pairs' tokens, chosen and rejected each padded to the longer
    longest_pass_tokens: int  # the most tokens in one training forward pass: what activations scale with


@dataclass(frozen=True)
class Estimate:
    memory_bytes: int
    fit: Fit
    seconds: float | None  # None without a measured speed


def workload(config: TrainingConfig, response_tokens: Sequence[int]) -> Workload:
    """What ``config`` does with texts of these token lengths: each cut into segments, sampled to its cap."""
    c = config
    examples: list[tuple[int, int]] = []  # (response tokens, sampling cap) per segment
    for tokens in response_tokens:
        parts = max(1, math.ceil(tokens / c.segment_tokens)) if tokens > c.segment_tokens * 1.25 else 1
        size = min(math.ceil(tokens / parts), c.max_length - PROMPT_TOKENS)
        for part in range(parts):
            final = part == parts - 1
            cap = c.max_new_tokens or (math.ceil(size * c.length_factor) if final else size)
            examples.append((size, min(cap, c.max_length - PROMPT_TOKENS)))
    n = len(examples)
    mean_len = PROMPT_TOKENS + sum(r for r, _ in examples) / n
    train = c.sft_max_steps * min(c.sft_batch_size, n) * mean_len
    # A round samples n_samples rows per example, batched longest cap first; a batch runs to its longest cap.
    caps = sorted((cap for _, cap in examples for _ in range(c.n_samples)), reverse=True)
    batches = [caps[i : i + c.sample_batch_size] for i in range(0, len(caps), c.sample_batch_size)]
    decode = c.n_rounds * sum(len(b) * max(b) * (_CUT_SHARE + (1 - _CUT_SHARE) / 2) for b in batches)
    sampled = [PROMPT_TOKENS + cap * (_CUT_SHARE + (1 - _CUT_SHARE) / 2) for cap in caps]
    scored = c.n_rounds * sum(sampled)
    pair_tokens = 2 * PROMPT_TOKENS + 2 * max(max(r, cap) for r, cap in examples)
    per_pass, _ = micro_batches(c.dpo_batch_size, c.micro_batch_size)
    dpo = c.dpo_steps * c.dpo_batch_size * pair_tokens
    longest = max(per_pass * pair_tokens, min(c.micro_batch_size, n) * (PROMPT_TOKENS + max(r for r, _ in examples)))
    return Workload(train, decode, scored, dpo, longest)


def training_memory(shape: ModelShape, quantization: str, device: str, config: TrainingConfig, load: Workload) -> int:
    """Peak bytes that training takes: of RAM on a CPU or Apple GPU, of GPU memory on CUDA."""
    embeddings = shape.vocab * shape.hidden * (1 if shape.tied_embeddings else 2)
    layers = shape.layers * shape.layer_params
    weights = layers * WEIGHT_BYTES[quantization] + embeddings * max(2.0, WEIGHT_BYTES[quantization])
    lora = shape.layers * 4 * config.lora_r * 2 * shape.hidden * 16  # q/k/v/o: weights, grads, two moments (fp32)
    per_layer = shape.hidden * _ACTIVATION_PER_HIDDEN + shape.intermediate * _ACTIVATION_PER_INTERMEDIATE
    if config.dpo_gradient_checkpointing:
        kept = shape.layers * shape.hidden * 2 + per_layer  # each layer's input, and one layer at a time
    else:
        kept = shape.layers * per_layer
    activations = load.longest_pass_tokens * (kept + shape.vocab * _LOGIT_BYTES)
    base = CUDA_CONTEXT_BYTES if device == "cuda" else RUNTIME_BYTES
    return int(base + weights + lora + activations)


def fit_of(needed: int, free: int) -> Fit:
    if needed <= 0.8 * free:
        return Fit.FITS
    return Fit.TIGHT if needed <= free else Fit.TOO_BIG


def training_seconds(shape: ModelShape, speed: Speed, config: TrainingConfig, load: Workload) -> float:
    passes = load.train_tokens * _TRAIN_PASSES + load.scored_tokens
    passes += load.dpo_tokens * (_TRAIN_PASSES + (_CHECKPOINT_PASSES if config.dpo_gradient_checkpointing else 0))
    flops = shape.flops_per_token
    return passes * flops / speed.forward_flops + load.decode_row_steps * flops / speed.decode_flops


def estimate(
    shape: ModelShape, quantization: str, machine: Machine, config: TrainingConfig, response_tokens: Sequence[int]
) -> Estimate:
    load = workload(config, response_tokens)
    memory = training_memory(shape, quantization, machine.device, config, load)
    seconds = training_seconds(shape, machine.speed, config, load) if machine.speed else None
    return Estimate(memory, fit_of(memory, machine.free_bytes), seconds)


def catalog_estimates(
    machine: Machine, quantization: str, config: TrainingConfig, response_tokens: Sequence[int]
) -> list[tuple[CatalogModel, Estimate]]:
    """Every model of the picker with what ``config`` would cost it here: the one table of the CLI and window."""
    return [(m, estimate(m.shape, quantization, machine, config, response_tokens)) for m in CATALOG]


def describe_estimate(estimate: Estimate) -> str:
    """ "2.1 GB, fits · about 3 min": how the picker and the Learn page say it."""
    text = f"{estimate.memory_bytes / GB:.1f} GB, {estimate.fit.value}"
    if estimate.seconds is not None:
        text += f" · about {format_rough_duration(estimate.seconds)}"
    return text


def format_rough_duration(seconds: float) -> str:
    """An estimate said as a person would: "40 s", "3 min", "1 h 20 min"."""
    if seconds < 90:
        return f"{max(10, round(seconds / 10) * 10)} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes // 60} h {minutes % 60:02d} min"


def fitted_to_memory(
    config: TrainingConfig, shape: ModelShape, quantization: str, machine: Machine, response_tokens: Sequence[int]
) -> TrainingConfig:
    """``config`` with what must give way for training to fit this machine's free memory: DPO's activations are
    recomputed instead of kept, then texts are learnt in shorter segments. On a GPU with room to spare they
    are kept instead (faster). What cannot be made to fit is left to the estimate's "too big"."""

    def needs(c: TrainingConfig) -> int:
        return training_memory(shape, quantization, machine.device, c, workload(c, response_tokens))

    if machine.device == "cuda" and config.dpo_gradient_checkpointing:
        roomy = replace(config, dpo_gradient_checkpointing=False)
        return roomy if fit_of(needs(roomy), machine.free_bytes) == Fit.FITS else config
    if fit_of(needs(config), machine.free_bytes) == Fit.FITS:
        return config
    config = replace(config, dpo_gradient_checkpointing=True)
    while fit_of(needs(config), machine.free_bytes) != Fit.FITS and config.segment_tokens > _MIN_SEGMENT_TOKENS:
        config = replace(config, segment_tokens=max(_MIN_SEGMENT_TOKENS, config.segment_tokens * 3 // 4))
    return config
