"""Writing a new text for a request, streamed token by token, with a profile's adapter or without.

Streaming uses transformers' TextIteratorStreamer: generate() runs in a thread and the caller
iterates over text pieces as they arrive. Stopping is a StoppingCriteria that watches a cancel flag.

Speed note (measured on 2 cores): if the *calling* thread has itself run torch kernels and is still
alive, libgomp sees more OpenMP threads than cores, stops spin-waiting, and decoding runs at half
speed (26 -> 13-15 tokens/s). The window runs each job in its own QThread and never runs torch on the
GUI thread, so it does not meet this; a script that trains and then streams on its main thread does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch

# Imported with the model that writes, on the job's thread (bridge/tasks.py freezes what loading brings in),
# not later with the first trained style or the first training.
from peft import PeftModel
from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

from ditto_desk.core.models.chat import encode_prompt
from ditto_desk.core.models.decoding import TOP_K, adapter_strength, decoding_arguments, merged_for_generation
from ditto_desk.core.models.loading import LoadedModel
from ditto_desk.core.profiles.adapter_folder import check_base_model
from ditto_desk.core.progress import CancelToken
from ditto_desk.core.writing.length import DEFAULT_NEW_TOKENS, DraftLength, draft_length_for

ADAPTER_NAME = "profile"


@dataclass(frozen=True)
class WriteOptions:
    # The bounds of a draft (length.py); Writer.length_for fits them to a profile's texts.
    max_new_tokens: int = DEFAULT_NEW_TOKENS
    min_new_tokens: int = 0  # no end of text before this many tokens
    ease_from: int | None = None  # the end of text made likelier past this many tokens (length.py)
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = TOP_K
    # The 135M model loops at moderate temperatures without it.
    repetition_penalty: float = 1.15
    seed: int | None = None
    style_strength: float = 1.0  # the learned style's weight in the draft (decoding.adapter_strength)

    @classmethod
    def within(
        cls, bounds: DraftLength, temperature: float, seed: int | None = None, style_strength: float = 1.0
    ) -> WriteOptions:
        return cls(bounds.cap, bounds.floor, bounds.ease_from, temperature, seed=seed, style_strength=style_strength)

    @property
    def length(self) -> DraftLength:
        return DraftLength(self.min_new_tokens, self.max_new_tokens, self.ease_from)


class _StopOnCancel(StoppingCriteria):
    def __init__(self, *tokens: CancelToken) -> None:
        self.tokens = tokens

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any) -> torch.BoolTensor:
        stop = any(token.cancelled for token in self.tokens)
        return cast(
            torch.BoolTensor, torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)
        )


class Writer:
    """Holds one loaded model and, optionally, one profile's adapter on top of it."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model: Any = loaded.model
        self.adapter_dir: Path | None = None
        self._lock = threading.Lock()  # one generation at a time on this model

    @property
    def has_adapter(self) -> bool:
        return self.adapter_dir is not None

    def length_for(self, texts: Sequence[str], chosen: int | None = None) -> DraftLength:
        """The draft length that fits an author's ``texts`` (length.py), counted in this model's tokens,
        under the cap the user ``chosen`` if any."""
        bounds = draft_length_for(self.loaded.tokenizer, texts)
        return bounds if chosen is None else bounds.capped_at(chosen)

    def use_adapter(self, adapter_dir: Path | None) -> None:
        """Put a trained adapter (a PEFT folder) on the model, replacing any other; None means the base model.
        An adapter learned on another base model is refused with a ProfileError saying which (before the
        model is touched: loading it would fail half-way with a size mismatch)."""
        if adapter_dir is not None:
            check_base_model(adapter_dir, self.loaded.name)
        with self._lock:
            if isinstance(self.model, PeftModel):
                self.model = self.model.unload()  # back to the plain base model, LoRA layers removed
            if adapter_dir is not None:
                self.model = PeftModel.from_pretrained(self.model, str(adapter_dir), adapter_name=ADAPTER_NAME)
                self.model.eval()
            self.adapter_dir = adapter_dir

    def stream(
        self,
        request: str,
        options: WriteOptions | None = None,
        *,
        use_adapter: bool = True,
        cancel: CancelToken | None = None,
    ) -> Iterator[str]:
        """Yield the text as it is generated. Stop by setting ``cancel`` or by closing the iterator."""
        options = options or WriteOptions()
        abandoned = CancelToken()  # set when the caller stops iterating
        tokenizer = self.loaded.tokenizer
        prompt = torch.tensor([encode_prompt(tokenizer, request)], device=self.loaded.device)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=120)
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with self._lock, torch.no_grad(), self.loaded.autocast(), self._adapter_context(use_adapter, options):
                    if options.seed is not None:
                        torch.manual_seed(options.seed)
                    self.model.generate(
                        input_ids=prompt,
                        attention_mask=torch.ones_like(prompt),
                        **decoding_arguments(
                            options.temperature,
                            options.top_k,
                            options.top_p,
                            options.repetition_penalty,
                            prompt_length=prompt.shape[1],
                        ),
                        max_new_tokens=options.max_new_tokens,
                        **options.length.ending_arguments(),
                        pad_token_id=tokenizer.pad_token_id,
                        eos_token_id=tokenizer.eos_token_id,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_StopOnCancel(abandoned, cancel or abandoned)]),
                    )
            except BaseException as exc:  # surfaced to the caller below, not lost in the thread
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=generate, name="ditto-desk-write", daemon=True)
        thread.start()
        try:
            yield from streamer
        finally:
            abandoned.cancel()  # a caller that stops iterating stops the generation too
            thread.join()
        if failure:
            raise failure[0]

    def write(self, request: str, options: WriteOptions | None = None, *, use_adapter: bool = True) -> str:
        return "".join(self.stream(request, options, use_adapter=use_adapter)).strip()

    def _adapter_context(self, use_adapter: bool, options: WriteOptions) -> Any:
        if not self.has_adapter:
            return nullcontext()
        if not use_adapter:
            return self.model.disable_adapter()
        stack = ExitStack()
        stack.enter_context(adapter_strength(self.model, options.style_strength))  # scaled, then merged
        stack.enter_context(merged_for_generation(self.model))
        return stack
