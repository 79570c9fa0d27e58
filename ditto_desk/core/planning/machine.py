"""This machine as the estimates see it: its device, its free memory, and how fast it runs a model, measured in
a few seconds on the model that is loaded.

The estimates (estimates.py) scale the measured rates to any model by its arithmetic per token, so one
measurement with the bundled model prices every model in the picker. torch is imported by the functions that
measure, not here: the window reads the estimates before a model is loaded.

A measurement taken while other programs keep the cores busy would price every run as if they always would
(several times too long once they stop): while measuring, the load of other programs is measured too. A
measurement on an idle machine is kept; on a busy one the kept one is used instead, and the estimate says so.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from ditto_desk.core.atomic import atomic_write_json
from ditto_desk.core.models.catalog import ModelShape
from ditto_desk.core.places import cache_root

if TYPE_CHECKING:
    from ditto_desk.core.models.loading import LoadedModel

_FORWARD_TOKENS = 256
_DECODE_ROWS = 16  # the sampling batch size of every preset
_DECODE_STEPS = 12
# Other programs using more than this share of the cores while the speed is measured make the machine busy: a
# desktop at rest (a browser, a mail client) stays well below it.
BUSY_SHARE = 0.2
SPEED_FILE = "speed.json"


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
    speed_note: str = ""  # a plain sentence when the speed was measured on a busy machine, else empty


def model_shape(loaded: LoadedModel) -> ModelShape:
    return ModelShape.from_config(loaded.model.config.to_dict())


class OtherProgramsLoad:
    """How many cores other programs kept busy from ``start()`` to ``cores()``: all the machine's busy time
    (psutil's system-wide counters) less this process's own."""

    def __init__(self) -> None:
        self._own = psutil.Process()
        self._start = self._now()

    def _now(self) -> tuple[float, float, float]:
        system = psutil.cpu_times()
        # Linux counts a guest's time inside user time as well: left out here, as idle and I/O wait are.
        not_busy = sum(getattr(system, field, 0.0) for field in ("idle", "iowait", "guest", "guest_nice"))
        own = self._own.cpu_times()
        return time.monotonic(), sum(system) - not_busy, own.user + own.system

    def cores(self) -> float:
        wall0, busy0, own0 = self._start
        wall1, busy1, own1 = self._now()
        return max(0.0, (busy1 - busy0) - (own1 - own0)) / max(wall1 - wall0, 1e-3)


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
    """This machine, its speed measured on ``loaded`` (a few seconds), or without a speed.

    Measured while other programs keep a share of the cores busy, the speed is the one kept from the last
    measurement on an idle machine, where there is one; ``speed_note`` says which was used and why."""
    free = free_memory(loaded.device)
    if not measure:
        return Machine(loaded.device, free)
    others = OtherProgramsLoad()
    speed = measure_speed(loaded)
    busy = loaded.device == "cpu" and others.cores() > BUSY_SHARE * (os.cpu_count() or 1)
    key = _speed_key(loaded)
    if not busy:
        _keep_speed(key, speed)
        return Machine(loaded.device, free, speed)
    kept = _kept_speed(key)
    if kept is not None:
        note = "Other programs are using this computer: the times are for when it is idle, as measured earlier."
        return Machine(loaded.device, free, kept, note)
    note = "Other programs were using this computer while its speed was measured: learning may take less time."
    return Machine(loaded.device, free, speed, note)


def _speed_key(loaded: LoadedModel) -> str:
    import torch

    return f"{loaded.name} · {loaded.device} · {loaded.quantization} · {torch.get_num_threads()} threads"


def _speed_file() -> Path:
    return cache_root() / SPEED_FILE


def _kept_speeds() -> dict[str, dict[str, float]]:
    try:
        kept = json.loads(_speed_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: measured again on the next idle run
    return kept if isinstance(kept, dict) else {}


def _kept_speed(key: str) -> Speed | None:
    entry = _kept_speeds().get(key)
    try:
        return Speed(float(entry["forward_flops"]), float(entry["decode_flops"])) if entry else None
    except (KeyError, TypeError, ValueError):
        return None


def _keep_speed(key: str, speed: Speed) -> None:
    kept, path = _kept_speeds(), _speed_file()
    kept[key] = asdict(speed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, kept)
    except OSError:
        pass  # a cache: the estimate stands without it (a full disk or a read-only cache folder)
