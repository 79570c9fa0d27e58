"""This machine as the estimates see it: its free memory, and how fast it runs a model, measured in a few
seconds on the model that is loaded.

The estimates (estimates.py) scale the measured rates to any model by its arithmetic per token, so one
measurement with the bundled model prices every model in the picker.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psutil
import torch

from .config import TrainingConfig
from .estimates import (
    SAMPLE_TEXT_TOKENS,
    Estimate,
    Machine,
    Speed,
    catalog_estimates,
    estimate,
    fitted_to_memory,
)
from .model_catalog import CatalogModel, ModelShape
from .models import LoadedModel

_FORWARD_TOKENS = 256
_DECODE_ROWS = 16  # the sampling batch size of every preset
_DECODE_STEPS = 12


def model_shape(loaded: LoadedModel) -> ModelShape:
    return ModelShape.from_config(loaded.model.config.to_dict())


def measure_speed(loaded: LoadedModel) -> Speed:
    """Time a forward pass over a training-sized text and a few sampling steps of a full batch (after one
    untimed warm-up each: the first call pays for kernel selection and memory allocation)."""
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
        free, _total = torch.cuda.mem_get_info()
        return int(free)
    return int(psutil.virtual_memory().available)


def this_machine(loaded: LoadedModel, measure: bool = True) -> Machine:
    """This machine, its speed measured on ``loaded`` (a few seconds), or without a speed."""
    return Machine(loaded.device, free_memory(loaded.device), measure_speed(loaded) if measure else None)


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
