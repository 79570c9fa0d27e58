"""A GGUF file the user brings (LM Studio, Ollama, llama.cpp): converted once into the cache, then loaded like any
model folder; a file the app cannot use is refused before any heavy work, with nothing left in the cache."""

from __future__ import annotations

import errno
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from ditto_desk.core.errors import ModelError
from ditto_desk.core.models import gguf as gguf_models
from ditto_desk.core.models.gguf import checkpoint_ready, converted_checkpoint, gguf_cache_dir, read_gguf_header
from ditto_desk.core.models.loading import LoadedModel, load_model
from ditto_desk.core.models.settings import ModelSettings, is_folder_choice, model_choice_problem
from ditto_desk.core.models.sources import bundled_gguf_path
from ditto_desk.core.progress import Cancelled, CancelToken, Phase, ProgressEvent

STEM = "SmolLM2-135M-Instruct.Q4_1"
CHAT_TEMPLATE = "{% for m in messages %}{{ m.content }}{% endfor %}"


@pytest.fixture(scope="module")
def user_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled GGUF, as if LM Studio had downloaded it."""
    path = tmp_path_factory.mktemp("downloads") / f"{STEM}.gguf"
    shutil.copyfile(bundled_gguf_path(), path)
    return path


@pytest.fixture(scope="module")
def gguf_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gguf-cache")


@pytest.fixture(scope="module")
def first_load(user_gguf: Path, gguf_cache: Path) -> tuple[LoadedModel, list[ProgressEvent], float]:
    """The one real conversion of this module: (the loaded model, its progress events, seconds)."""
    events: list[ProgressEvent] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DITTO_DESK_CACHE", str(gguf_cache))
        start = time.monotonic()
        loaded = load_model(ModelSettings(model=str(user_gguf), quantization="none"), events.append)
    return loaded, events, time.monotonic() - start


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DITTO_DESK_CACHE", str(cache))
    return cache


def _greedy(loaded: LoadedModel, request: str, tokens: int = 8) -> list[int]:
    ids = loaded.tokenizer.apply_chat_template(
        [{"role": "user", "content": request}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = loaded.model.generate(**ids, max_new_tokens=tokens, do_sample=False)
    return out[0, ids["input_ids"].shape[1] :].tolist()


def _write_tiny_gguf(path: Path, architecture: str, chat_template: str | None = None) -> Path:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), architecture)
    writer.add_name("tiny")
    if chat_template:
        writer.add_chat_template(chat_template)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_a_gguf_file_converts_once_and_writes_as_the_bundled_model(first_load, gguf_cache: Path) -> None:
    loaded, events, _ = first_load
    convert = [e for e in events if e.phase == Phase.CONVERT]
    assert [e.step for e in convert] == [1, 2, 3] and convert[-1].fraction == 1.0
    assert f"{STEM}.gguf" in convert[0].message
    assert loaded.name == STEM and loaded.quantization == "none"
    (folder,) = (p for p in (gguf_cache / "models" / "gguf").iterdir() if p.suffix != ".lock")  # no scratch left
    assert folder.name.startswith(STEM) and checkpoint_ready(folder)
    bundled = load_model(ModelSettings(quantization="none"))  # the shared test cache, converted the usual way
    request = "Write a one-line thank-you note to Sam."
    assert _greedy(loaded, request) == _greedy(bundled, request)


def test_the_second_load_uses_the_cache(first_load, user_gguf: Path, gguf_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("DITTO_DESK_CACHE", str(gguf_cache))
    events: list[ProgressEvent] = []
    start = time.monotonic()
    loaded = load_model(ModelSettings(model=str(user_gguf), quantization="none"), events.append)
    seconds = time.monotonic() - start
    assert loaded.name == STEM
    assert not [e for e in events if e.phase == Phase.CONVERT]
    assert seconds < first_load[2] / 3, (seconds, first_load[2])


def test_the_cache_is_keyed_by_name_size_and_modification_time(user_gguf: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / user_gguf.name
    moved.parent.mkdir()
    os.link(user_gguf, moved)  # the same file in another folder: no second conversion
    assert gguf_cache_dir(moved) == gguf_cache_dir(user_gguf)
    replaced = tmp_path / user_gguf.name
    shutil.copyfile(user_gguf, replaced)  # a new download of the same name: a new modification time
    os.utime(replaced, ns=(0, user_gguf.stat().st_mtime_ns + 1_000_000_000))
    assert gguf_cache_dir(replaced) != gguf_cache_dir(user_gguf)


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path, empty_cache: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04" + b"\0" * 1000)  # a zip file, renamed
    with pytest.raises(ModelError, match="is not a GGUF model file"):
        load_model(ModelSettings(model=str(fake), quantization="none"))
    assert not empty_cache.exists() or not any(empty_cache.rglob("*"))


def test_the_header_reader_agrees_with_the_gguf_package() -> None:
    from gguf import GGUFReader

    path = bundled_gguf_path()
    reader = GGUFReader(path)
    info = read_gguf_header(path)
    assert info.architecture == reader.get_field("general.architecture").contents() == "llama"
    assert info.chat_template and reader.get_field("tokenizer.chat_template") is not None
    assert info.parameters == sum(int(t.n_elements) for t in reader.tensors)
    assert info.data_end == max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors) == path.stat().st_size


@pytest.mark.parametrize("kept", [100, 2_000_000, 0.5, -1], ids=["header", "vocabulary", "weights", "last-byte"])
def test_a_truncated_gguf_is_refused(kept: float, tmp_path: Path, empty_cache: Path) -> None:
    cut = tmp_path / f"{STEM}.gguf"
    data = bundled_gguf_path().read_bytes()
    cut.write_bytes(data[: int(len(data) * kept) if isinstance(kept, float) else kept])  # an unfinished download
    start = time.monotonic()
    with pytest.raises(ModelError, match="damaged or incomplete"):
        load_model(ModelSettings(model=str(cut), quantization="none"))
    assert time.monotonic() - start < 10  # from the header alone
    assert not empty_cache.exists() or not any(empty_cache.rglob("*"))


def test_an_architecture_transformers_cannot_read_is_named_and_refused(tmp_path: Path, empty_cache: Path) -> None:
    path = _write_tiny_gguf(tmp_path / "rwkv.gguf", "rwkv7", chat_template=CHAT_TEMPLATE)
    with pytest.raises(ModelError, match="“rwkv7” kind") as refused:
        load_model(ModelSettings(model=str(path), quantization="none"))
    assert "llama" in str(refused.value) and "qwen2" in str(refused.value)  # the kinds it can read
    assert not empty_cache.exists() or not any(empty_cache.rglob("*"))


def test_a_base_model_without_a_chat_template_is_refused(tmp_path: Path, empty_cache: Path) -> None:
    path = _write_tiny_gguf(tmp_path / "base.gguf", "llama")
    with pytest.raises(ModelError, match="no chat template"):
        load_model(ModelSettings(model=str(path), quantization="none"))
    assert not empty_cache.exists() or not any(empty_cache.rglob("*"))


class _FullDisk:
    """Stands in for the model and tokenizer read from the GGUF: writing them fails as on a full disk."""

    def save_pretrained(self, folder: Any) -> None:
        (Path(folder) / "model.safetensors").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_reported_before_and_during_the_conversion(tmp_path: Path, empty_cache: Path, monkeypatch):
    path = _write_tiny_gguf(tmp_path / "tiny.gguf", "llama", chat_template=CHAT_TEMPLATE)
    with monkeypatch.context() as patch:  # too little room for the checkpoint: refused before reading the weights
        patch.setattr(gguf_models.shutil, "disk_usage", lambda _: SimpleNamespace(free=0))
        with pytest.raises(ModelError, match="only 0.0 GB free.*free some disk space"):
            converted_checkpoint(path)
    monkeypatch.setattr(gguf_models, "_read_gguf", lambda _: (_FullDisk(), _FullDisk()))
    with pytest.raises(ModelError, match="No space left on device.*free some disk space"):
        converted_checkpoint(path)
    assert not list((empty_cache / "models" / "gguf").iterdir())  # the half-written scratch folder is gone


def test_a_cancelled_conversion_leaves_nothing(tmp_path: Path, empty_cache: Path, monkeypatch) -> None:
    path = _write_tiny_gguf(tmp_path / "tiny.gguf", "llama", chat_template=CHAT_TEMPLATE)
    monkeypatch.setattr(gguf_models, "_read_gguf", lambda _: (_FullDisk(), _FullDisk()))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        converted_checkpoint(path, cancel=token)
    assert not list((empty_cache / "models" / "gguf").iterdir())


class _Writes:
    """Stands in for the model and tokenizer read from the GGUF: writes a small file, slowly."""

    def save_pretrained(self, folder: Any) -> None:
        time.sleep(0.2)
        (Path(folder) / "model.safetensors").write_bytes(b"w" * 1000)


def test_two_conversions_at_once_keep_one_cache_and_a_damaged_one_is_redone(tmp_path: Path, empty_cache, monkeypatch):
    path = _write_tiny_gguf(tmp_path / "tiny.gguf", "llama", chat_template=CHAT_TEMPLATE)
    monkeypatch.setattr(gguf_models, "_read_gguf", lambda _: (_Writes(), _Writes()))
    with ThreadPoolExecutor(2) as pool:  # the window and the command line, say
        first, second = pool.map(lambda _: converted_checkpoint(path), range(2))
    assert first == second and checkpoint_ready(first)
    assert [p.name for p in first.parent.iterdir() if not p.name.endswith(".lock")] == [first.name]
    (first / "model.safetensors").write_bytes(b"w" * 10)  # as if the conversion died while writing
    assert not checkpoint_ready(first)
    assert converted_checkpoint(path) == first and checkpoint_ready(first)


def test_a_gguf_path_is_a_valid_model_choice(user_gguf: Path, tmp_path: Path) -> None:
    assert is_folder_choice(str(user_gguf)) and model_choice_problem(str(user_gguf)) is None
    assert model_choice_problem(str(user_gguf), as_folder=True) is None  # typed into the Settings' folder field
    missing = tmp_path / "gone" / "model.Q4_K_M.gguf"
    assert is_folder_choice(str(missing)) and is_folder_choice("model.gguf")  # not a hub id, though it parses as one
    assert f"There is no file {missing}" in (model_choice_problem(str(missing)) or "")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "is not a GGUF model file" in (model_choice_problem(str(text)) or "")
