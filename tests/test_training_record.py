"""The training record at the head of a training log: written by a learning, read by the history, the Learn page
and the check that a style meets its own model, from logs of any age or damage."""

from __future__ import annotations

import json

import pytest

from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles.record import TrainingRecord

# As a learning wrote it before the record had a type (a real header, its config cut short).
WRITTEN_BEFORE = {
    "phase": "summary",
    "finished": "2026-12-01T09:30:00+00:00",
    "model": {
        "model": "bundled",
        "device": "auto",
        "quantization": "auto",
        "name": "SmolLM2-135M-Instruct",
        "quantization_used": "bf16",
    },
    "device": "cpu",
    "machine": "x86_64",
    "config": {"lora_r": 16, "dpo_steps": 6},
    "demonstrations": 4,
    "phase_seconds": {"sft": 37.2, "sample": 31.0, "reference": 12.1, "dpo": 60.4},
    "samples_drawn": 32,
    "samples_cut": 24,
    "dpo_stopped_at_margin": None,
}


def test_a_record_reads_back_as_written_and_as_every_earlier_version_wrote_it() -> None:
    record = TrainingRecord.of_log([WRITTEN_BEFORE, {"phase": "sft", "step": 1, "loss": 2.0}])
    assert record is not None
    assert record.model == ModelSettings() and record.model_name == "SmolLM2-135M-Instruct"
    assert record.demonstrations == 4 and record.taught_edits is None and record.seconds == pytest.approx(140.7)
    assert json.loads(json.dumps(record.to_json())) == WRITTEN_BEFORE
    taught = TrainingRecord.of_log([{**WRITTEN_BEFORE, "taught_edits": 2}])
    assert taught is not None and taught.taught_edits == 2 and taught.to_json()["taught_edits"] == 2


def test_a_damaged_or_missing_record_keeps_what_it_can() -> None:
    assert TrainingRecord.of_log([]) is None and TrainingRecord.of_log([{"phase": "sft"}, "junk", 3]) is None
    damaged = {
        "phase": "summary",
        "finished": 5,
        "model": "bundled",
        "demonstrations": True,
        "phase_seconds": {"sft": "long", "dpo": 2},
        "dpo_stopped_at_margin": "high",
    }
    record = TrainingRecord.of_log(["junk", damaged])
    assert record is not None
    assert record.finished is None and record.model is None and record.model_name is None
    assert record.demonstrations is None and record.phase_seconds == {"dpo": 2.0}
    assert record.dpo_stopped_at_margin is None
