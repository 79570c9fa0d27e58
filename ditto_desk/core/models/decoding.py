"""How every draft and sample is decoded: each next token sampled among the most likely ones, and the LoRA
adapter merged into the weights while generating.

transformers samples with ``torch.multinomial`` over the whole vocabulary, which on the CPU draws one
exponential variate per vocabulary entry and step: 12 ms of a 53 ms decoding step for 16 rows of the
bundled model's 49k entries. :class:`TopTokenSampler` draws among the top-k entries only and hands
``generate`` a distribution with all its mass on the drawn token, which greedy decoding then takes. The
tokens come from the same distribution as ``generate(do_sample=True, temperature, top_k, top_p)`` (with the
repetition penalty and minimum length applied before, as there), 1.37x faster on 16 rows of the bundled
model (benchmarks/levers.md). Written by hand because transformers offers no sampler without that draw.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import torch
from transformers import LogitsProcessor, LogitsProcessorList, RepetitionPenaltyLogitsProcessor

TOP_K = 50  # transformers' default, which every draw here used before this sampler


class TopTokenSampler(LogitsProcessor):
    """Draws one token per row from softmax(logits / temperature), restricted to the ``top_k`` most likely
    tokens and then to the smallest set of them whose probability reaches ``top_p``."""

    def __init__(self, temperature: float, top_k: int | None = TOP_K, top_p: float = 1.0) -> None:
        if temperature <= 0:
            raise ValueError("a sampler needs a temperature above 0; decode greedily instead")
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        logits = scores.float() / self.temperature
        k = min(self.top_k or logits.shape[-1], logits.shape[-1])
        top, index = logits.topk(k, dim=-1)  # largest first
        if self.top_p < 1.0:
            probs = top.softmax(-1)
            beyond = probs.cumsum(-1) - probs >= self.top_p  # the mass before this token already reaches top_p
            top = top.masked_fill(beyond, float("-inf"))
        choice = index.gather(1, torch.multinomial(top.softmax(-1), 1))
        picked = torch.full_like(scores, float("-inf"))
        return cast(torch.FloatTensor, picked.scatter_(1, choice, 0.0))


def decoding_arguments(
    temperature: float,
    top_k: int | None = TOP_K,
    top_p: float = 1.0,
    repetition_penalty: float = 1.0,
    prompt_length: int | None = None,
) -> dict[str, Any]:
    """``generate`` arguments that decode greedily at temperature 0 and sample with :class:`TopTokenSampler`
    above it.

    The repetition penalty counts only the tokens generated after the (padded) prompt of ``prompt_length``
    tokens. Counted over the prompt it hit the end-of-turn token that closes every chat turn, so a draft was
    kept from ending where the model would end it: on the shipped corpus half of DITTO's drafts and most of
    SFT's ran to the length cap (benchmarks/eval_quick.md).
    """
    processors: list[LogitsProcessor] = []
    if repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(repetition_penalty, prompt_ignore_length=prompt_length))
    if temperature > 0:
        processors.append(TopTokenSampler(temperature, top_k, top_p))
    # generate()'s own penalty stays off, whatever the model's generation_config holds (Qwen2.5 ships 1.05).
    return {"do_sample": False, "repetition_penalty": 1.0, "logits_processor": LogitsProcessorList(processors)}


@contextmanager
def adapter_strength(model: Any, strength: float) -> Iterator[None]:
    """The active LoRA adapter's update scaled by ``strength`` while the block runs (peft's own ``set_scale``,
    which multiplies the scale the adapter was trained with); the trained scale afterwards."""
    from peft.tuners.lora import LoraLayer

    adapter = getattr(model, "active_adapter", None)
    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    if strength == 1.0 or not layers or not isinstance(adapter, str):
        yield
        return
    try:
        for layer in layers:
            layer.set_scale(adapter, strength)
        yield
    finally:
        for layer in layers:
            layer.set_scale(adapter, 1.0)


@contextmanager
def merged_for_generation(model: Any) -> Iterator[None]:
    """The active LoRA adapter folded into the base weights while the block runs: generating 16 rows with
    the bundled model is 1.2x faster without each layer's two extra LoRA products (benchmarks/levers.md).

    The base weights are put back bit for bit afterwards: peft's safe merge writes the sum into a new tensor,
    and the original one is put back in place (peft's own unmerge subtracts the product again, which in bf16
    does not give the same bits). Nothing is merged where the adapters are off (peft would unmerge on the
    next forward) or where a base layer is not a plain floating-point Linear (a quantized layer cannot take
    the sum without loss)."""
    from peft.tuners.lora import LoraLayer

    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    adapter = getattr(model, "active_adapter", None)
    mergeable = layers and all(
        not layer.disable_adapters and not layer.merged and type(layer.get_base_layer()) is torch.nn.Linear
        for layer in layers
    )
    if not isinstance(adapter, str) or not mergeable:
        yield
        return
    layers = [layer for layer in layers if adapter in layer.lora_A]
    originals = [layer.get_base_layer().weight.data for layer in layers]
    try:
        for layer in layers:
            layer.merge(safe_merge=True, adapter_names=[adapter])
        yield
    finally:
        for layer, original in zip(layers, originals, strict=True):
            layer.get_base_layer().weight.data = original
            if adapter in layer.merged_adapters:
                layer.merged_adapters.remove(adapter)
