"""Loading models: quantization as asked or a plain word on the fallback, clear errors, a cached bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ditto_desk.core import models
from ditto_desk.core.models import ModelError, ModelSettings, bundled_model_ready, detect_device, load_model


def test_nf4_on_the_cpu_through_bitsandbytes(tiny_model_dir: Path) -> None:
    loaded = load_model(ModelSettings(model=str(tiny_model_dir), device="cpu", quantization="nf4"))
    assert loaded.quantization == "nf4"
    assert "NF4" in loaded.note and "bitsandbytes" in loaded.note
    assert any("4bit" in type(m).__name__ for m in loaded.model.modules())


def test_a_failed_quantization_falls_back_and_says_why(tiny_model_dir: Path, monkeypatch) -> None:
    def broken(*_):
        raise RuntimeError("no kernels for this device")

    monkeypatch.setattr(models, "_bnb_config", broken)
    loaded = load_model(ModelSettings(model=str(tiny_model_dir), quantization="int8"))
    assert loaded.quantization == "none"
    assert "INT8 quantization failed here" in loaded.note and "no kernels" in loaded.note


def test_bad_choices_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="quantization"):
        load_model(ModelSettings(quantization="q3"))
    with pytest.raises(ModelError, match="device"):
        detect_device("tpu")
    with pytest.raises(ModelError, match="no config.json"):
        load_model(ModelSettings(model=str(tmp_path)))


def test_the_bundled_model_is_converted_once_into_safetensors(bundled_model_dir: Path) -> None:
    assert bundled_model_ready()
    marker = json.loads((bundled_model_dir / "ditto-desk-converted.json").read_text())
    assert "model.safetensors" in marker["files"] and "tokenizer.json" in marker["files"]
    assert not list(bundled_model_dir.glob("*.bin")), "only safetensors are written"


def test_a_half_written_model_cache_is_detected_and_converted_again(bundled_model_dir: Path, tmp_path, monkeypatch):
    monkeypatch.setenv("DITTO_DESK_CACHE", str(tmp_path))
    copy = models.bundled_checkpoint_dir()
    shutil.copytree(bundled_model_dir, copy)
    assert bundled_model_ready()
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # as if the conversion died while writing
    assert not bundled_model_ready()
    assert models.prepare_bundled_model() == copy
    assert bundled_model_ready() and weights.stat().st_size > 100_000_000
