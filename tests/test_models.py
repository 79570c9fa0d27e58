"""Loading models: quantization as asked or a plain word on the fallback, clear errors, a cached bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ditto_desk.core.errors import ModelError
from ditto_desk.core.models import loading, sources
from ditto_desk.core.models.loading import detect_device, load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.models.sources import bundled_model_ready


def test_nf4_on_the_cpu_through_bitsandbytes(tiny_model_dir: Path) -> None:
    loaded = load_model(ModelSettings(model=str(tiny_model_dir), device="cpu", quantization="nf4"))
    assert loaded.quantization == "nf4"
    assert "NF4" in loaded.note and "bitsandbytes" in loaded.note
    assert any("4bit" in type(m).__name__ for m in loaded.model.modules())


def test_a_failed_quantization_falls_back_and_says_why(tiny_model_dir: Path, monkeypatch) -> None:
    def broken(*_):
        raise RuntimeError("no kernels for this device")

    monkeypatch.setattr(loading, "_bnb_config", broken)
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
    copy = sources.bundled_checkpoint_dir()
    shutil.copytree(bundled_model_dir, copy)
    assert bundled_model_ready()
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # as if the conversion died while writing
    assert not bundled_model_ready()
    assert sources.prepare_bundled_model() == copy
    assert bundled_model_ready() and weights.stat().st_size > 100_000_000


def _load_in_a_fresh_process(model: str, env: dict[str, str]) -> tuple[int, str, float]:
    """load_model as a user's command would run it, with the environment's Hugging Face settings."""
    import os
    import subprocess
    import sys
    import time

    code = (
        "import sys\n"
        "from ditto_desk.core.errors import ModelError\n"
        "from ditto_desk.core.models.loading import load_model\n"
        "from ditto_desk.core.models.settings import ModelSettings\n"
        "try:\n"
        f"    loaded = load_model(ModelSettings(model={model!r}, quantization='none'))\n"
        "except ModelError as exc:\n"
        "    print(exc); sys.exit(3)\n"
        "print('loaded', loaded.name)\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout.strip(), time.monotonic() - start


# Connections to this address are refused at once: a hub that cannot be reached, without any network.
UNREACHABLE_HUB = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_DISABLE_TELEMETRY": "1"}


def test_a_missing_model_folder_is_named_as_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="There is no folder .*no/such/folder"):
        load_model(ModelSettings(model=str(tmp_path / "no" / "such" / "folder")))
    with pytest.raises(ModelError, match="There is no folder"):
        load_model(ModelSettings(model="./my-model"))


def test_a_hub_model_that_needs_a_download_fails_fast_when_the_hub_cannot_be_reached(tmp_path: Path) -> None:
    env = {**UNREACHABLE_HUB, "HF_HUB_CACHE": str(tmp_path / "hub")}
    code, out, seconds = _load_in_a_fresh_process("someone/some-model", env)
    assert code == 3, out
    assert "is not on this computer yet and Hugging Face cannot be reached" in out
    assert seconds < 20  # the interpreter and torch take most of it; huggingface_hub alone retried for ~48 s


def test_a_hub_model_in_the_local_cache_loads_without_the_network(tiny_model_dir: Path, tmp_path: Path) -> None:
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-chat"
    shutil.copytree(tiny_model_dir, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    code, out, seconds = _load_in_a_fresh_process(
        "someone/tiny-chat", {**UNREACHABLE_HUB, "HF_HUB_CACHE": str(tmp_path / "hub")}
    )
    assert code == 0, out
    assert out.endswith("loaded someone/tiny-chat")


def test_a_second_load_of_a_model_reuses_its_tokenizer_until_the_folder_changes(tiny_model_dir: Path, tmp_path) -> None:
    # Parsing a tokenizer holds Python's lock: the window's learning job would freeze the window for it.
    first = load_model(ModelSettings(model=str(tiny_model_dir), quantization="none"))
    second = load_model(ModelSettings(model=str(tiny_model_dir), quantization="none"))
    assert second.tokenizer is first.tokenizer and second.model is not first.model

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    before = load_model(ModelSettings(model=str(copy), quantization="none")).tokenizer
    config = copy / "tokenizer_config.json"
    settings = json.loads(config.read_text())
    settings["model_max_length"] = 77
    config.write_text(json.dumps(settings))
    after = load_model(ModelSettings(model=str(copy), quantization="none")).tokenizer
    assert after is not before and after.model_max_length == 77
