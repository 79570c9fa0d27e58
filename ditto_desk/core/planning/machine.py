"""This machine as the estimates see it: its device, its free memory, and how fast it runs a model, measured in
a few seconds on the model that is loaded.

The estimates (estimates.py) scale the measured rates to any model by its arithmetic per token, so one
measurement with the bundled model prices every model in the picker. torch is imported by the functions that
measure, not here: the window reads the estimates before a model is loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

from ditto_desk.core.models.catalog import ModelShape

if TYPE_CHECKING:
    from ditto_desk.core.models.loading import LoadedModel

_FORWARD_TOKENS = 256
_DECODE_ROWS = 16  # the sampling batch size of every preset
_DECODE_STEPS = 12


@dataclass(frozen=True)
class Speed:
    """Measured on this machine: a forward pass's and sampling's arithmetic rate, in FLOP/s."""

    forward_flops: float
    decode_flops: float  # for rows of the sampling batch size


@dataclass(frozen=True)
class Machine:
    device: str  # "cpu", "cuda" or "mps"
    free_bytes: int  # what training may use: free RAM (CPU, MPS) or free GPU memory (CUDA)
    speed: Speed | None = None  # None until measured: no time estimate then


def model_shape(loaded: LoadedModel) -> ModelShape:
    return ModelShape.from_config(loaded.model.config.to_dict())


def measure_speed(loaded: LoadedModel) -> Speed:
    """Time a forward pass over a training-sized text and a few sampling steps of a full batch (after one
    untimed warm-up each: the first call pays for kernel selection and memory allocation)."""
    import torch

    model, flops = loaded.model, model_shape(loaded).flops_per_token
    device = next(model.parameters()).device
    vocab = min(model.config.vocab_size, 1000)
    generator = torch.Generator().manual_seed(0)
    text = torch.randint(10, vocab, (2, _FORWARD_TOKENS), generator=generator).to(device)
    prompts = torch.randint(10, vocab, (_DECODE_ROWS, 8), generator=generator).to(device)
    mask = torch.ones_like(prompts)
    decode = {
        "max_new_tokens": _DECODE_STEPS,
        "min_new_tokens": _DECODE_STEPS,
        "do_sample": False,
        "pad_token_id": loaded.tokenizer.pad_token_id,
    }
    with torch.no_grad(), loaded.autocast():
        model(text[:, :32])
        model.generate(prompts, attention_mask=mask, **{**decode, "max_new_tokens": 2, "min_new_tokens": 2})
        # The faster of two tries: another program's burst of work should not make every estimate too long.
        forward_s = min(_seconds(lambda: model(text)) for _ in range(2))
        decode_s = min(_seconds(lambda: model.generate(prompts, attention_mask=mask, **decode)) for _ in range(2))
    return Speed(
        forward_flops=text.numel() * flops / forward_s,
        decode_flops=_DECODE_ROWS * _DECODE_STEPS * flops / decode_s,
    )


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def free_memory(device: str) -> int:
    """Bytes that training may take: free GPU memory on CUDA; available RAM on a CPU, and on an Apple GPU,
    which shares it."""
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    return int(psutil.virtual_memory().available)


def this_machine(loaded: LoadedModel, measure: bool = True) -> Machine:
    """This machine, its speed measured on ``loaded`` (a few seconds), or without a speed."""
    return Machine(loaded.device, free_memory(loaded.device), measure_speed(loaded) if measure else None)
