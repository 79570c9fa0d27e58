"""Cancel checkpoints inside the model, so a long forward or backward pass stops within a layer.

A DPO step on a laptop CPU takes several seconds; checking the cancel flag only between steps would
miss the 5-second promise. No library offers this, so: hooks that raise ``Cancelled`` on every
decoder layer's forward and backward while the flag is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from ditto_desk.core.progress import CancelToken


def _decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    layers = [m for name, m in model.named_modules() if name.endswith(".layers") and isinstance(m, torch.nn.ModuleList)]
    return list(layers[0]) if layers else [model]


@contextmanager
def cancel_checkpoints(model: torch.nn.Module, cancel: CancelToken) -> Iterator[None]:
    def check(*_: Any) -> None:
        cancel.raise_if_cancelled()

    handles = []
    for layer in _decoder_layers(model):
        handles.append(layer.register_forward_pre_hook(check))
        handles.append(layer.register_full_backward_pre_hook(check))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
