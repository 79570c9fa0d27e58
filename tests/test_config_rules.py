"""Every training setting is checked by name, type and range before any work starts."""

from __future__ import annotations

import contextlib
from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ditto_desk.core.errors import SettingError
from ditto_desk.core.training.config import PRESETS, TrainingConfig, preset
from ditto_desk.core.training.setting_rules import RULES, checked_overrides


def test_every_setting_has_a_rule_and_every_preset_keeps_them() -> None:
    assert {f.name for f in fields(TrainingConfig)} == set(RULES)
    for config in PRESETS.values():
        assert checked_overrides(config.to_json()) == {**config.to_json(), "lora_targets": config.lora_targets}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("bogus_key", 1, "there is no setting 'bogus_key'"),
        ("sft_max_steps", "abc", "sft_max_steps must be a whole number at least 1"),
        ("n_samples", 0, "n_samples must be a whole number at least 1"),
        ("dpo_batch_size", 0, "dpo_batch_size must be a whole number at least 1"),
        ("max_length", 1, "max_length must be a whole number at least 96"),
        ("lora_targets", "q_proj v_proj", "lora_targets must be a comma-separated list of module names"),
        ("temperature", -1, "temperature must be a number above 0"),
        ("beta", float("nan"), "beta must be a number above 0"),
        ("sft_optimizer", "adam", "sft_optimizer must be one of adamw_torch, rmsprop"),
        ("dpo_gradient_checkpointing", "yes", "dpo_gradient_checkpointing must be true or false"),
        ("sft_max_steps", True, "sft_max_steps must be a whole number"),
        ("max_new_tokens", 2.5, "max_new_tokens must be a whole number at least 1 and at most 32768, or none"),
    ],
)
def test_a_bad_setting_is_refused_by_name_with_what_it_accepts(name, value, message) -> None:
    with pytest.raises(SettingError, match=message):
        preset("quick").with_overrides(**{name: value})


def test_typed_text_becomes_the_settings_type() -> None:
    config = preset("quick").with_overrides(
        sft_learning_rate="3e-4",
        sft_max_steps="12",
        lora_targets="q_proj, v_proj",
        dpo_gradient_checkpointing="False",
        max_new_tokens="none",
        top_k=20.0,
    )
    assert config.sft_learning_rate == 3e-4 and config.sft_max_steps == 12
    assert config.lora_targets == ("q_proj", "v_proj")
    assert config.dpo_gradient_checkpointing is False and config.max_new_tokens is None
    assert config.top_k == 20 and isinstance(config.top_k, int)


@settings(derandomize=True)
@given(
    name=st.sampled_from(sorted(RULES)),
    value=st.one_of(st.text(), st.integers(), st.floats(), st.none(), st.just("9" * 400), st.just(-(10**400))),
)
def test_any_value_is_taken_or_refused_with_a_setting_error(name, value) -> None:
    with contextlib.suppress(SettingError):
        preset("quick").with_overrides(**{name: value})


def test_the_learning_rates_tuned_on_the_bundled_model_shrink_for_a_wider_model() -> None:
    from ditto_desk.core.training.config import preset

    quick = preset("quick")
    assert quick.for_width(576) == quick  # the bundled model: as tuned
    wide = quick.for_width(1152)
    assert wide.dpo_learning_rate == quick.dpo_learning_rate / 2
    assert wide.sft_learning_rate == quick.sft_learning_rate / 2
    assert preset("paper").for_width(4096) == preset("paper")  # the paper's rates are for its own 7B models
