"""What each training setting accepts, checked by name, type and range before any work starts.

The CLI's ``--set key=value``, the evaluation's overrides and a stored profile's settings all go through
:func:`checked_overrides`, so a bad value is refused with the setting's name and what it accepts, never
as a traceback from deep inside training.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ditto_desk.core.errors import SettingError

# Optimizers and schedules that run on every device with what the app installs (transformers' names).
OPTIMIZERS = ("adamw_torch", "rmsprop", "sgd", "adagrad", "adafactor")
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup")


@dataclass(frozen=True)
class Rule:
    kind: type  # int, float, str, bool or tuple (a list of names)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: the value must be above ``low``, not equal to it
    choices: tuple[str, ...] = ()
    optional: bool = False  # None ("none") is allowed too

    def accepts(self) -> str:
        if self.choices:
            text = "one of " + ", ".join(self.choices)
        elif self.kind is bool:
            text = "true or false"
        elif self.kind is tuple:
            text = "a comma-separated list of module names, e.g. q_proj,v_proj"
        else:
            noun = "a whole number" if self.kind is int else "a number"
            bounds = []
            if self.low is not None:
                bounds.append(f"{'above' if self.low_open else 'at least'} {self.low:g}")
            if self.high is not None:
                bounds.append(f"at most {self.high:g}")
            text = noun + (" " + " and ".join(bounds) if bounds else "")
        return text + (", or none" if self.optional else "")


def _count(low: int = 1, high: float | None = None) -> Rule:
    return Rule(int, low, high)


def _rate() -> Rule:
    return Rule(float, 0, 1, low_open=True)


def _share() -> Rule:
    return Rule(float, 0, 1)


RULES: dict[str, Rule] = {
    "lora_r": _count(1, 1024),
    "lora_alpha": _count(1, 4096),
    "lora_dropout": Rule(float, 0, 0.9),
    "lora_targets": Rule(tuple),
    "lora_layers": Rule(int, 1, 1000, optional=True),
    "sft_learning_rate": _rate(),
    "sft_max_steps": _count(1, 100_000),
    "sft_batch_size": _count(1, 1024),
    "sft_warmup_ratio": _share(),
    "sft_scheduler": Rule(str, choices=SCHEDULERS),
    "sft_stop_loss": Rule(float, 0),
    "sft_optimizer": Rule(str, choices=OPTIMIZERS),
    "dpo_learning_rate": _rate(),
    "dpo_steps": _count(0, 100_000),
    "resample_every": _count(1, 100_000),
    "n_samples": _count(1, 1000),
    "dpo_batch_size": _count(1, 1024),
    "beta": Rule(float, 0, 100, low_open=True),
    "dpo_warmup_ratio": _share(),
    "dpo_scheduler": Rule(str, choices=SCHEDULERS),
    "dpo_optimizer": Rule(str, choices=OPTIMIZERS),
    "share_expert": Rule(float, 0, 1, low_open=True),  # the first round has expert pairs only
    "share_replay": _share(),
    "share_intermodel": _share(),
    "rpo_alpha": Rule(float, 0, 100),
    "ld_alpha": Rule(float, 0, 1, optional=True),
    "dpo_weight": Rule(float, 0, 100),
    "dpo_stop_margin": Rule(float, -1_000, 1_000, optional=True),
    "temperature": Rule(float, 0, 10, low_open=True),  # DITTO samples; 0 would be greedy, one sample per prompt
    "top_k": _count(0, 1_000_000),  # 0: no top-k
    "top_p": Rule(float, 0, 1, low_open=True),
    "repetition_penalty": Rule(float, 0, 10, low_open=True),
    "max_new_tokens": Rule(int, 1, 32_768, optional=True),
    "length_factor": Rule(float, 0, 10, low_open=True),
    "segment_tokens": _count(32, 32_768),
    "max_length": _count(96, 65_536),  # a chat-formatted request alone takes a few dozen tokens
    "sample_batch_size": _count(1, 1024),
    "micro_batch_size": _count(1, 1024),
    "dpo_gradient_checkpointing": Rule(bool),
    "lr_tuned_width": Rule(int, 1, 1_000_000, optional=True),
    "teach_steps": _count(1, 100_000),
    "share_edit": _share(),
    "seed": _count(0, 2**32 - 1),
}


def checked_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Each ``name: value`` checked and converted to the setting's type. Values may be typed already or be the
    text a person typed ("3e-4", "true", "q_proj,v_proj", "none")."""
    return {name: checked_value(name, value) for name, value in overrides.items()}


def checked_value(name: str, value: Any) -> Any:
    rule = RULES.get(name)
    if rule is None:
        raise SettingError(f"there is no setting {name!r}; the settings are: {', '.join(RULES)}")
    converted = _convert(rule, value)
    if converted is _INVALID or not _in_range(rule, converted):
        raise SettingError(f"{name} must be {rule.accepts()}; got {value!r}")
    return converted


_INVALID = object()


def _convert(rule: Rule, value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if rule.optional and text.lower() in ("none", "null", ""):
            return None
        if rule.kind is tuple:
            names = [part.strip() for part in text.split(",")]
            return tuple(names) if names and all(n.isidentifier() for n in names) else _INVALID
        if rule.kind is not str:
            try:
                value = json.loads(text.lower() if rule.kind is bool else text)
            except ValueError:
                return _INVALID
    if value is None:
        return None if rule.optional else _INVALID
    if rule.kind is bool:
        return value if isinstance(value, bool) else _INVALID
    if rule.kind is tuple:
        ok = isinstance(value, list | tuple) and value and all(isinstance(v, str) and v.isidentifier() for v in value)
        return tuple(value) if ok else _INVALID
    if rule.kind is str:
        return value if isinstance(value, str) else _INVALID
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _INVALID
    if isinstance(value, int):  # exact, however large (float() of a 400-digit number overflows)
        return value if rule.kind is int else float(value) if abs(value) < 2**1023 else _INVALID
    if not math.isfinite(value):
        return _INVALID
    if rule.kind is int:
        return int(value) if value.is_integer() else _INVALID
    return value


def _in_range(rule: Rule, value: Any) -> bool:
    if value is None:
        return True
    if rule.choices:
        return value in rule.choices
    if rule.kind not in (int, float):
        return True
    if rule.low is not None and (value <= rule.low if rule.low_open else value < rule.low):
        return False
    return rule.high is None or value <= rule.high
