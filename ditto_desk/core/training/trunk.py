"""The frozen trunk: with LoRA on the top decoder layers only, the layers below never change, so their output
for a token sequence is computed once and every later pass over that sequence starts above them.

SFT, the reference scores and DPO each pass over the same texts many times: a demonstration's segment at every
SFT step, a sample once when it is scored and again at every DPO step that pairs it. With LoRA on the top
``lora_layers`` layers (peft's ``layers_to_transform``) the layers below hold no trainable weight and, with
dropout off, give the same output every time: :class:`Trunk` keeps that output per sequence (hidden size x 2
bytes a token in bf16) and, inside :meth:`Trunk.skipped`, hands it to the first trained layer in place of the
embeddings while the layers below pass it through untouched. The forward then runs through the top layers
only, and so does the backward pass.

No library offers this, so it is written here: a forward hook on the input embeddings puts each batch row's
stored output in place (a row is found by its tokens, padding stripped), and the layers below are swapped for
a pass-through while the block runs. The layers keep their own indices, so per-layer attention kinds (sliding
window or full) stay as they were. :meth:`Trunk.of` checks on a short text that a model computes the same
with the trunk skipped as without, and gives none for a model whose decoder does more than this expects
(one that scales its embeddings after the embedding layer, say).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch

# Sequences whose trunk output is computed in one no-grad pass, right-padded.
FILL_BATCH = 8
# A model whose output with the trunk skipped differs from its own output by more than this (relative, on a
# short text) is not one this module understands: it trains at full depth instead.
_CHECK_TOLERANCE = 1e-2

Key = tuple[int, ...]


class _PassThrough(torch.nn.Module):
    """Stands in for a trunk layer while the trunk is skipped: its input is the stored output already."""

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return hidden_states


class Trunk:
    """The output of decoder layers ``[0, start)`` for each sequence given to :meth:`fill`."""

    def __init__(self, model: Any, start: int, pad_id: int) -> None:
        self.start = start
        self.pad_id = pad_id
        self._decoder = _decoder_of(model)
        self._outputs: dict[Key, torch.Tensor] = {}

    @classmethod
    def of(cls, model: Any, pad_id: int) -> Trunk | None:
        """The trunk below the adapter's lowest layer, or None where LoRA covers every layer or the model fails
        the check that skipping the trunk changes nothing."""
        config = model.peft_config[model.active_adapter]
        layers = getattr(config, "layers_to_transform", None)
        start = min(layers) if isinstance(layers, list) and layers else 0
        if start == 0:
            return None
        trunk = cls(model, start, pad_id)
        return trunk if trunk._computes_as_full_depth() else None

    @property
    def tokens(self) -> int:
        return sum(len(output) for output in self._outputs.values())

    def key(self, ids: Sequence[int]) -> Key:
        """A sequence as a batch row shows it: trailing padding stripped. Where padding is EOS, a text that ends
        with EOS shares its key with itself cut before EOS; the output at an EOS that ends a row is never read."""
        end = len(ids)
        while end and ids[end - 1] == self.pad_id:
            end -= 1
        return tuple(ids[:end])

    def fill(self, sequences: Iterable[Sequence[int]]) -> int:
        """Compute the trunk's output for each sequence not seen yet; return how many tokens that took."""
        missing = list(dict.fromkeys(k for k in (self.key(s) for s in sequences) if k and k not in self._outputs))
        missing.sort(key=len, reverse=True)  # rows of similar lengths share a batch
        for start in range(0, len(missing), FILL_BATCH):
            chunk = missing[start : start + FILL_BATCH]
            for key, output in zip(chunk, self._outputs_of(chunk), strict=True):
                self._outputs[key] = output
        return sum(len(k) for k in missing)

    @torch.no_grad()
    def _outputs_of(self, sequences: list[Key]) -> list[torch.Tensor]:
        """One no-grad pass through the trunk alone (the layers above it pass through)."""
        layers = self._decoder.layers
        device = next(self._decoder.parameters()).device
        width = max(len(s) for s in sequences)
        input_ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention[row, : len(ids)] = 1
        captured: list[torch.Tensor] = []
        hook = layers[self.start - 1].register_forward_hook(lambda module, args, output: captured.append(output))
        was_training = self._decoder.training
        self._decoder.eval()  # no dropout: the output must be the one every later pass would compute
        try:
            with _swapped(layers, range(self.start, len(layers))):
                self._decoder(input_ids=input_ids.to(device), attention_mask=attention.to(device), use_cache=False)
        finally:
            hook.remove()
            self._decoder.train(was_training)
        output = captured[-1][0] if isinstance(captured[-1], tuple) else captured[-1]
        return [output[row, : len(ids)].detach().clone() for row, ids in enumerate(sequences)]

    @contextmanager
    def skipped(self) -> Iterator[None]:
        """Every forward pass in the block starts above the trunk, from the outputs :meth:`fill` stored."""
        hook = self._decoder.embed_tokens.register_forward_hook(
            lambda module, args, output: self._rows(args[0], output)
        )
        try:
            with _swapped(self._decoder.layers, range(self.start)):
                yield
        finally:
            hook.remove()

    def _rows(self, input_ids: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        """The stored trunk output for each row of a batch, in the embeddings' place (zeros where padding is)."""
        rows = torch.zeros_like(embeddings)
        for row, ids in enumerate(input_ids.tolist()):
            key = self.key(ids)
            output = self._outputs.get(key)
            if output is None:
                raise KeyError(f"the trunk's output of a {len(key)}-token sequence was never computed (fill it first)")
            rows[row, : len(key)] = output.to(rows.dtype)
        return rows

    def _computes_as_full_depth(self) -> bool:
        """On a short text: the top layer's output with the trunk skipped is the model's own."""
        probe: Key = tuple(range(10, 26))
        last = self._decoder.layers[-1]
        outputs: list[torch.Tensor] = []
        hook = last.register_forward_hook(
            lambda module, args, output: outputs.append(output[0] if isinstance(output, tuple) else output)
        )
        device = next(self._decoder.parameters()).device
        ids = torch.tensor([probe], device=device)
        try:
            with torch.no_grad():
                self._decoder(input_ids=ids, use_cache=False)
                self.fill([probe])
                with self.skipped():
                    self._decoder(input_ids=ids, use_cache=False)
        finally:
            hook.remove()
            self._outputs.clear()
        full, skipped = outputs[0].float(), outputs[1].float()
        return bool((full - skipped).norm() <= _CHECK_TOLERANCE * full.norm())


@contextmanager
def above(trunk: Trunk | None, sequences: Iterable[Sequence[int]]) -> Iterator[None]:
    """Passes over ``sequences`` in the block start above ``trunk`` (its outputs for them computed first, where
    not yet); with no trunk, at full depth."""
    if trunk is None:
        yield
        return
    trunk.fill(sequences)
    with trunk.skipped():
        yield


@contextmanager
def _swapped(layers: torch.nn.ModuleList, indices: Iterable[int]) -> Iterator[None]:
    """Layers ``indices`` replaced by pass-throughs while the block runs; the modules themselves untouched."""
    kept = {i: layers[i] for i in indices}
    try:
        for i in kept:
            layers[i] = _PassThrough()
        yield
    finally:
        for i, layer in kept.items():
            layers[i] = layer


def _decoder_of(model: Any) -> Any:
    """The decoder stack (embeddings, layers, norm) of a peft model over a causal language model."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.get_decoder()
