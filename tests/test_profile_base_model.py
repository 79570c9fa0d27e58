"""A style learned on one base model, used after switching to another in Settings: refused before the
adapter touches the model, naming the model it was learned on and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT
from ditto_desk.cli.main import main
from ditto_desk.core.errors import ProfileError
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore


@pytest.fixture
def learned_elsewhere(tmp_path: Path) -> Profile:
    """The profile 'me' with an adapter learned on a (tiny) model other than the tiny test model: another
    hidden size, so the LoRA shapes can't fit it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    from ditto_desk.core.training.adapters import write_adapter

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=48, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4
    )
    other = get_peft_model(LlamaForCausalLM(config), LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    other_dir = tmp_path / "models" / "other-model"
    header = {"phase": "summary", "model": {"model": str(other_dir), "name": "other-model"}}
    profile = ProfileStore().create("me")
    profile.commit_adapter(lambda folder: write_adapter(other, "default", "other-model", folder), [header])
    return profile


def test_writing_with_a_style_learned_on_another_model(
    learned_elsewhere: Profile, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["write", "--profile", "me", "A note", "--max-new-tokens", "3"]
    assert main([*args, "--model", str(tiny_model_dir), "--quantization", "none"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"learned on the model other-model, but the model in use now is {tiny_model_dir.name}" in err
    other_dir = tmp_path / "models" / "other-model"  # as it was chosen for training
    assert f"choose {other_dir} again as the model (in Settings, or with --model" in err
    assert "train the profile again" in err and "Traceback" not in err


def test_the_refused_adapter_leaves_the_model_as_it_was(learned_elsewhere: Profile, tiny_settings) -> None:
    from peft import PeftModel

    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.writing.writer import WriteOptions, Writer

    writer = Writer(load_model(tiny_settings))
    with pytest.raises(ProfileError, match="choose .*other-model again as the model") as info:
        writer.use_adapter(learned_elsewhere.active_adapter_dir)
    assert str(info.value).startswith("This style was learned on the model other-model")
    assert not writer.has_adapter and not isinstance(writer.model, PeftModel)
    assert isinstance(writer.write("A note", WriteOptions(max_new_tokens=3, seed=0)), str)  # still writes
