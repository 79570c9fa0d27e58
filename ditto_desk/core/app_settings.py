"""The desktop app's own settings (model, preset, last profile, compose controls), kept as JSON.

No Qt and no torch here: the window reads these before it shows, so importing this module must stay
cheap. A missing or broken file gives the defaults, field by field, and is never fatal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ditto_desk.core.atomic import atomic_write_json
from ditto_desk.core.models.settings import AUTO, BUNDLED, DEVICES, QUANTIZATIONS, ModelSettings
from ditto_desk.core.places import app_settings_path
from ditto_desk.core.training.config import DEFAULT_PRESET, PRESETS
from ditto_desk.core.writing.length import MAX_NEW_TOKENS, MIN_NEW_TOKENS

AUTO_LENGTH = 0  # Compose's length taken from the profile's texts (writing/length.py)
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.0, 2.0
# How much of the learned style a draft takes: the LoRA update times this (0 is the base model, 1 the style as
# learned, past 1 a little more of it). Drafts trade voice for coherence along it.
STYLE_STRENGTHS = (MIN_STYLE_STRENGTH, MAX_STYLE_STRENGTH) = (0.0, 1.5)


@dataclass
class AppSettings:
    model: str = BUNDLED  # "bundled", a Hugging Face model id, or a local folder
    device: str = AUTO
    quantization: str = AUTO
    preset: str = DEFAULT_PRESET
    last_profile: str | None = None
    # A new key: the old "compose_max_new_tokens" held 200 for everyone (saved at every close), which would
    # have kept every existing user off the length taken from their own texts.
    compose_length: int = AUTO_LENGTH
    compose_temperature: float = 0.7
    compose_style_strength: float = 1.0
    show_base_comparison: bool = False
    my_addresses: list[str] = field(default_factory=list)  # the user's own, for picking their emails from a mailbox

    def model_json(self) -> dict[str, str]:
        return self.model_settings().to_json()

    def model_settings(self) -> ModelSettings:
        return ModelSettings(self.model, self.device, self.quantization)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> AppSettings:
        """Keep every valid field; a missing or wrong one takes its default."""
        settings = cls()
        if not isinstance(data, dict):
            return settings
        for f in fields(cls):
            if f.name in data:
                value = _clean(f.name, data[f.name])
                if value is not _INVALID:
                    setattr(settings, f.name, value)
        return settings


_INVALID = object()


def _clean(name: str, value: Any) -> Any:
    if name == "model":
        return value.strip() if isinstance(value, str) and value.strip() else _INVALID
    if name == "device":
        return value if value in DEVICES else _INVALID
    if name == "quantization":
        return value if value in QUANTIZATIONS else _INVALID
    if name == "preset":
        return value if value in PRESETS else _INVALID
    if name == "last_profile":
        return value if value is None or (isinstance(value, str) and value) else _INVALID
    if name == "compose_length":
        ok = isinstance(value, int) and not isinstance(value, bool)
        if not ok:
            return _INVALID
        return AUTO_LENGTH if value == AUTO_LENGTH else min(MAX_NEW_TOKENS, max(MIN_NEW_TOKENS, value))
    if name in ("compose_temperature", "compose_style_strength"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN
        low, high = (MIN_TEMPERATURE, MAX_TEMPERATURE) if name == "compose_temperature" else STYLE_STRENGTHS
        return float(min(high, max(low, value))) if ok else _INVALID
    if name == "show_base_comparison":
        return value if isinstance(value, bool) else _INVALID
    if name == "my_addresses":
        ok = isinstance(value, list) and all(isinstance(v, str) and "@" in v and len(v) < 320 for v in value)
        return list(value[:20]) if ok else _INVALID
    return _INVALID


def load_app_settings(path: Path | None = None) -> AppSettings:
    """The saved settings, or the defaults when the file is missing, unreadable or not valid JSON."""
    path = path or app_settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return AppSettings()
    return AppSettings.from_json(data)


def save_app_settings(settings: AppSettings, path: Path | None = None) -> None:
    """Write the settings atomically; raises ``AtomicWriteError`` (an OSError with a user-facing message)."""
    path = path or app_settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, settings.to_json())
