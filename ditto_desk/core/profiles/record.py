"""What a learning says about itself: the record at the head of its training log.

A training log (``training-log.json`` in every adapter version) is a list: this record first, then one entry
per SFT step, sampling round and DPO step. The record says when the learning finished, on which model (as the
user chose it, and its name), from how many texts or edits, with which settings, and how long each phase took.
The history, the Learn page and the check that a style meets its own model read it through
:meth:`TrainingRecord.of_log`, which takes any log, however old or damaged, and keeps what it can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ditto_desk.core.models.settings import ModelSettings

RECORD_PHASE = "summary"  # the record's "phase" in the log, as every version has written it


@dataclass(frozen=True)
class TrainingRecord:
    finished: str | None  # ISO time, UTC
    model: ModelSettings | None  # the model as the user chose it: what they must choose again to use the style
    model_name: str | None  # the loaded model's name: what the adapter was learned on
    quantization_used: str | None = None
    device: str | None = None
    machine: str | None = None  # platform.machine()
    config: dict[str, Any] | None = None  # the training settings as used (scaled to the model's width)
    demonstrations: int | None = None
    taught_edits: int | None = None  # an update from edits (teaching), not a learning from the texts
    phase_seconds: dict[str, float] = field(default_factory=dict)
    samples_drawn: int | None = None
    samples_cut: int | None = None
    dpo_stopped_at_margin: float | None = None

    @property
    def seconds(self) -> float | None:
        return sum(self.phase_seconds.values()) if self.phase_seconds else None

    def to_json(self) -> dict[str, Any]:
        model = self.model.to_json() if self.model is not None else {}
        data: dict[str, Any] = {
            "phase": RECORD_PHASE,
            "finished": self.finished,
            "model": model | {"name": self.model_name, "quantization_used": self.quantization_used},
            "device": self.device,
            "machine": self.machine,
            "config": self.config,
            "demonstrations": self.demonstrations,
            "phase_seconds": self.phase_seconds,
            "samples_drawn": self.samples_drawn,
            "samples_cut": self.samples_cut,
            "dpo_stopped_at_margin": self.dpo_stopped_at_margin,
        }
        if self.taught_edits is not None:
            data["taught_edits"] = self.taught_edits
        return data

    @classmethod
    def of_log(cls, log: Sequence[object]) -> TrainingRecord | None:
        """The record of a training log, or None when it has none; a field of the wrong type reads as unknown."""
        entry = next((e for e in log if isinstance(e, Mapping) and e.get("phase") == RECORD_PHASE), None)
        if entry is None:
            return None
        model = entry.get("model") if isinstance(entry.get("model"), Mapping) else None
        chosen = model.get("model") if model is not None else None
        seconds = entry.get("phase_seconds")
        return cls(
            finished=_of(str, entry.get("finished")),
            model=ModelSettings.from_json(dict(model)) if model is not None and isinstance(chosen, str) else None,
            model_name=_of(str, model.get("name")) if model is not None else None,
            quantization_used=_of(str, model.get("quantization_used")) if model is not None else None,
            device=_of(str, entry.get("device")),
            machine=_of(str, entry.get("machine")),
            config=dict(entry["config"]) if isinstance(entry.get("config"), Mapping) else None,
            demonstrations=_of(int, entry.get("demonstrations")),
            taught_edits=_of(int, entry.get("taught_edits")),
            phase_seconds={str(k): float(v) for k, v in seconds.items() if is_number(v)}
            if isinstance(seconds, Mapping)
            else {},
            samples_drawn=_of(int, entry.get("samples_drawn")),
            samples_cut=_of(int, entry.get("samples_cut")),
            dpo_stopped_at_margin=float(entry["dpo_stopped_at_margin"])
            if is_number(entry.get("dpo_stopped_at_margin"))
            else None,
        )


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _of(kind: type, value: object) -> Any:
    """``value`` if it is a ``kind`` (a bool is not an int here), else None."""
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) else None
