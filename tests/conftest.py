"""Shared fixtures: a tiny randomly initialised model (real architecture, real tokenizer) for fast
unit tests, and a model cache shared by every test run on this machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The bundled model is converted once per machine into this ignored folder, not the user's cache.
os.environ.setdefault("DITTO_DESK_CACHE", str(REPO / ".cache" / "test-models"))
os.environ.setdefault("TQDM_DISABLE", "1")
SAMPLES = REPO / "resources" / "samples"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles and settings of each test live in its own folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("DITTO_DESK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def bundled_model_dir() -> Path:
    from ditto_desk.core.models.sources import prepare_bundled_model

    return prepare_bundled_model()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, bundled_model_dir: Path) -> Path:
    """A 2-layer Llama with random weights and the bundled model's real tokenizer and chat template."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-model")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_dir)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_settings(tiny_model_dir: Path):
    from ditto_desk.core.models.settings import ModelSettings

    return ModelSettings(model=str(tiny_model_dir), quantization="none")


@pytest.fixture
def tiny_config():
    """DITTO with every phase present and tiny budgets: 2 SFT steps, 2 rounds of 1 DPO step."""
    from ditto_desk.core.training.config import preset

    return preset("quick").with_overrides(
        sft_max_steps=2,
        sft_stop_loss=0.0,
        dpo_steps=2,
        resample_every=1,
        n_samples=2,
        dpo_batch_size=3,
        max_new_tokens=8,
        max_length=128,
    )


@pytest.fixture
def sample_demos():
    from ditto_desk.core.importing.files import import_paths

    return import_paths(sorted(SAMPLES.iterdir())).demonstrations
