"""Before a run: how much memory training a model will take on this machine, whether it fits, and how long
the chosen preset will take. Plain arithmetic on a model's shape (models/catalog.py), the preset and the
texts' lengths, with this machine's speed measured on the loaded model (machine.py).

The counts follow what the engine does (segments, per-text sampling caps, DPO pairs padded to the longer
text); the constants were fitted on measured runs of the quick preset (benchmarks/models.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

from ditto_desk.core.models.catalog import CATALOG, CatalogModel, ModelShape
from ditto_desk.core.planning.machine import Machine, Speed, model_shape
from ditto_desk.core.training.config import TrainingConfig, micro_batches
from ditto_desk.core.training.segments import WHOLE_SLACK

if TYPE_CHECKING:
    from ditto_desk.core.models.loading import LoadedModel

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
# intermediates in 16 bits), and per vocabulary entry for the output layer (bf16 logits, their fp32
# log-softmax and its gradient). The rest is fitted on measured peaks (training_memory says which).
_ACTIVATION_PER_HIDDEN = 24.0
_ACTIVATION_PER_INTERMEDIATE = 8.0
_LOGIT_BYTES = 16.0
_SFT_OVERHEAD_BYTES = int(0.28 * GB)  # the trainer, the optimizer, the LoRA
_LATER_PHASES_BYTES = int(1.05 * GB)  # sampling's cache and DPO's trainer, pairs and allocator slack
# What a token costs in each phase, in forward passes of the measured kind (machine.py: one big no-grad pass),
# fitted on the quick preset's phases on 2 CPU cores (benchmarks/models.md). A training step runs one text at
# a time through autograd, the LoRA and the loss; scoring goes 256 positions at a time. A DPO step's layers and
# its output layer are counted apart: trl scores the responses' positions only, but the output layer's log-softmax
# in fp32, for chosen and rejected, and its gradient cost many times its matmul. Fitted on SmolLM2-135M and
# Qwen2.5-0.5B each trained on all its layers and on its top third (the layers' share is what the frozen trunk
# removes): predicted full/top-third ratios 1.71 and 1.56 where 1.77 and 1.50 were measured. Sampling, with the
# adapter merged and the token drawn from the top-k only (models/decoding.py), runs near the measured greedy
# rate: 1.21, 1.04 and 0.85 of it on the three runs of benchmarks/models.md.
_SFT_PASSES = 4.6
_SCORE_PASSES = 2.1
_DPO_PASSES = 3.9  # of the trained layers
_CHECKPOINT_PASSES = 1.0  # the forward run again in the backward pass
_DPO_OUTPUT_PASSES = 11.0  # of the output layer's matmul
_DECODE_PASSES = 1.05  # of the measured greedy rate
# Segments shorter than this would cut most paragraphs apart (training/segments.py splits at paragraph ends).
_MIN_SEGMENT_TOKENS = 96
# Share of sampled rows that run to their cap (bench_quick: 24 of 32); the rest end on their own earlier.
_CUT_SHARE = 0.75


class Fit(str, Enum):
    FITS = "fits"
    TIGHT = "tight"  # within the free memory, without room for other programs
    TOO_BIG = "too big"


@dataclass(frozen=True)
class Workload:
    """Token counts of one DITTO run, as the engine will do them."""

    train_tokens: float  # SFT tokens, forward and backward
    decode_row_steps: float  # sampled tokens, counting rows that already ended in a batch still running
    scored_tokens: float  # reference scoring: forward only
    dpo_tokens: float  # DPO pairs' tokens, chosen and rejected each padded to the longer
    longest_pass_tokens: int  # the most tokens in one DPO forward pass
    longest_text_tokens: int  # the longest training example, request included: one SFT forward pass
    distinct_tokens: float  # every text's tokens once (examples and samples): what a frozen trunk computes


@dataclass(frozen=True)
class Estimate:
    memory_bytes: int
    fit: Fit
    seconds: float | None  # None without a measured speed


def workload(config: TrainingConfig, response_tokens: Sequence[int]) -> Workload:
    """What ``config`` does with texts of these token lengths: each cut into segments, sampled to its cap."""
    c = config
    texts: list[list[tuple[int, int]]] = []  # per text, (response tokens, sampling cap) of each segment
    for tokens in response_tokens:
        parts = max(1, math.ceil(tokens / c.segment_tokens)) if tokens > c.segment_tokens * WHOLE_SLACK else 1
        size = min(math.ceil(tokens / parts), c.max_length - PROMPT_TOKENS)
        final_cap = c.max_new_tokens or math.ceil(size * c.length_factor)
        caps = [c.max_new_tokens or size] * (parts - 1) + [final_cap]
        texts.append([(size, min(cap, c.max_length - PROMPT_TOKENS)) for cap in caps])
    examples = [segment for text in texts for segment in text]
    n = len(examples)
    mean_len = PROMPT_TOKENS + sum(r for r, _ in examples) / n
    train = c.sft_max_steps * min(c.sft_batch_size, n) * mean_len
    # A round draws n_samples per text, spread over its segments, in batches run longest cap first, each batch
    # to its longest cap; most rows run to their cap.
    caps = sorted((text[k % len(text)][1] for text in texts for k in range(c.n_samples)), reverse=True)
    batches = [caps[i : i + c.sample_batch_size] for i in range(0, len(caps), c.sample_batch_size)]
    decode = c.n_rounds * sum(len(b) * max(b) for b in batches)
    run_share = _CUT_SHARE + (1 - _CUT_SHARE) / 2  # the rows that end early end halfway, on average
    scored = c.n_rounds * sum(PROMPT_TOKENS + cap * run_share for cap in caps)
    # A DPO pair is its chosen and rejected texts, each padded to the longer of the two.
    pair_tokens = 2 * PROMPT_TOKENS + 2 * sum(max(r, cap) for r, cap in examples) / n
    longest_pair = 2 * PROMPT_TOKENS + 2 * max(max(r, cap) for r, cap in examples)
    per_pass, _ = micro_batches(c.dpo_batch_size, c.micro_batch_size)
    dpo = c.dpo_steps * c.dpo_batch_size * pair_tokens
    longest_text = PROMPT_TOKENS + max(r for r, _ in examples)
    distinct = n * mean_len + scored
    longest = longest_text * min(c.micro_batch_size, n)
    return Workload(train, decode, scored, dpo, int(per_pass * longest_pair), longest, distinct)


def trained_layers(shape: ModelShape, config: TrainingConfig) -> int:
    """How many decoder layers the passes of training run through: LoRA's, above the frozen trunk (trunk.py)."""
    return min(config.lora_layers or shape.layers, shape.layers)


def training_memory(shape: ModelShape, quantization: str, device: str, config: TrainingConfig, load: Workload) -> int:
    """Peak bytes that training takes: of RAM on a CPU or Apple GPU, of GPU memory on CUDA.

    The peak comes in SFT, where one text's logits and every layer's activations are kept for the backward
    pass, or later, where sampling and DPO need about a fixed amount over the weights (trl takes DPO's
    log-softmax one row at a time) plus DPO's kept activations. Fitted on SmolLM2-135M and Gemma-3-270M
    (benchmarks/models.md): peaks of 1.9 and 2.4 GB, the first reached in DPO, the second in SFT.
    """
    embeddings = shape.vocab * shape.hidden * (1 if shape.tied_embeddings else 2)
    layers = shape.layers * shape.layer_params
    weights = layers * WEIGHT_BYTES[quantization] + embeddings * max(2.0, WEIGHT_BYTES[quantization])
    per_layer = shape.hidden * _ACTIVATION_PER_HIDDEN + shape.intermediate * _ACTIVATION_PER_INTERMEDIATE
    above = trained_layers(shape, config)  # the layers below keep nothing for the backward pass
    sft = _SFT_OVERHEAD_BYTES + load.longest_text_tokens * (above * per_layer + shape.vocab * _LOGIT_BYTES)
    # Checkpointed, DPO keeps each layer's input and one layer's activations at a time.
    kept = above * shape.hidden * 2 + per_layer if config.dpo_gradient_checkpointing else above * per_layer
    trunk = load.distinct_tokens * shape.hidden * 2 if above < shape.layers else 0  # kept in bf16
    later = _LATER_PHASES_BYTES + load.longest_pass_tokens * kept + trunk
    base = CUDA_CONTEXT_BYTES if device == "cuda" else RUNTIME_BYTES
    return int(base + weights + max(sft + trunk, later))


def fit_of(needed: int, free: int) -> Fit:
    if needed <= 0.8 * free:
        return Fit.FITS
    return Fit.TIGHT if needed <= free else Fit.TOO_BIG


def training_seconds(shape: ModelShape, speed: Speed, config: TrainingConfig, load: Workload) -> float:
    # Training's passes run through the layers LoRA trains and the output layer; below them a frozen trunk is
    # computed once per token (one forward pass of its layers). Sampling always runs the whole model.
    above = trained_layers(shape, config)
    flops = 2.0 * (above * shape.layer_params + shape.vocab * shape.hidden)
    trunk = 2.0 * (shape.layers - above) * shape.layer_params * load.distinct_tokens
    dpo_passes = _DPO_PASSES + (_CHECKPOINT_PASSES if config.dpo_gradient_checkpointing else 0)
    dpo = dpo_passes * 2.0 * above * shape.layer_params + _DPO_OUTPUT_PASSES * 2.0 * shape.vocab * shape.hidden
    training = (load.train_tokens * _SFT_PASSES + load.scored_tokens * _SCORE_PASSES) * flops + load.dpo_tokens * dpo
    training += trunk
    sampling = load.decode_row_steps * _DECODE_PASSES * shape.flops_per_token
    return training / speed.forward_flops + sampling / speed.decode_flops


def estimate(
    shape: ModelShape, quantization: str, machine: Machine, config: TrainingConfig, response_tokens: Sequence[int]
) -> Estimate:
    """What a run takes here, with ``config`` as the run will use it (:func:`fitted_to_memory`)."""
    config = fitted_to_memory(config, shape, quantization, machine, response_tokens)
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


def text_tokens(loaded: LoadedModel, texts: list[str]) -> list[int]:
    """Each text's length in the model's tokens (with its EOS), or the bundled samples' when there are none."""
    tokens = [len(loaded.tokenizer(text, add_special_tokens=False)["input_ids"]) + 1 for text in texts]
    return tokens or list(SAMPLE_TEXT_TOKENS)


def fitted_config(loaded: LoadedModel, machine: Machine, config: TrainingConfig, texts: list[str]) -> TrainingConfig:
    """``config`` as a run of ``loaded`` on ``texts`` uses it here: made to fit this machine's free memory."""
    return fitted_to_memory(config, model_shape(loaded), loaded.quantization, machine, text_tokens(loaded, texts))


def estimate_run(loaded: LoadedModel, machine: Machine, config: TrainingConfig, texts: list[str]) -> Estimate:
    """What training ``loaded`` on ``texts`` with ``config`` will take here."""
    return estimate(model_shape(loaded), loaded.quantization, machine, config, text_tokens(loaded, texts))


def estimate_catalog(
    loaded: LoadedModel, machine: Machine, config: TrainingConfig, texts: list[str]
) -> list[tuple[CatalogModel, Estimate]]:
    """What training each model of the picker on ``texts`` would take here, quantized as ``loaded`` is."""
    return catalog_estimates(machine, loaded.quantization, config, text_tokens(loaded, texts))
