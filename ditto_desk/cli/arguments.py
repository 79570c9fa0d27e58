"""The arguments several commands share: which model, which preset, settings changed with --set."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ditto_desk.core.app_settings import MAX_STYLE_STRENGTH, MAX_TEMPERATURE, MIN_STYLE_STRENGTH, MIN_TEMPERATURE
from ditto_desk.core.errors import InputError, Refused, SettingError
from ditto_desk.core.models.settings import DEVICES, QUANTIZATIONS, ModelSettings
from ditto_desk.core.places import RESOURCES
from ditto_desk.core.training.config import DEFAULT_PRESET, PRESETS

if TYPE_CHECKING:
    from ditto_desk.core.importing.files import IncomingMessage

SAMPLES_DIR = RESOURCES / "samples"
CORPUS_DIR = RESOURCES / "corpus"


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """--set key=value pairs, each checked by the setting's rule (core/training/setting_rules.py) and of its type."""
    from ditto_desk.core.training.setting_rules import checked_overrides

    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise SettingError(f"--set expects key=value, got {pair!r}")
        overrides[key.strip()] = raw
    return checked_overrides(overrides)


def temperature(text: str) -> float:
    value = float(text)
    if not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:  # inf and nan too
        raise argparse.ArgumentTypeError(
            f"must be from {MIN_TEMPERATURE:g} (greedy) to {MAX_TEMPERATURE:g}, got {text}"
        )
    return value


def style_strength(value: str) -> float:
    try:
        strength = float(value)
    except ValueError:
        strength = float("nan")
    if not MIN_STYLE_STRENGTH <= strength <= MAX_STYLE_STRENGTH:
        raise argparse.ArgumentTypeError(f"must be a number from {MIN_STYLE_STRENGTH:g} to {MAX_STYLE_STRENGTH:g}")
    return strength


def seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {2**63 - 1}, got {text}")
    return value


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def add_model_args(parser: argparse.ArgumentParser) -> None:
    default = ModelSettings()  # the core's defaults, as the window's
    parser.add_argument(
        "--model",
        default=default.model,
        help=f"{default.model!r} (default), a Hugging Face model id, a folder, or a .gguf file (converted once)",
    )
    parser.add_argument("--device", default=default.device, choices=DEVICES)
    parser.add_argument("--quantization", default=default.quantization, choices=QUANTIZATIONS)


def model_settings(args: argparse.Namespace) -> ModelSettings:
    return ModelSettings(args.model, args.device, args.quantization)


def add_training_args(parser: argparse.ArgumentParser) -> None:
    """--preset and --set."""
    # No argparse choices: an unknown preset gets the core's own message (config.preset), as a --set does.
    parser.add_argument("--preset", default=DEFAULT_PRESET, help=f"{', '.join(PRESETS)} (default {DEFAULT_PRESET})")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")


def add_reply_to_arg(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--reply-to",
        type=Path,
        metavar="FILE",
        help=f"the email being answered (.eml, .txt or any format the importer reads): {what}",
    )


def read_reply_to(path: Path | None) -> IncomingMessage | None:
    """The message --reply-to names, or None; a file the importers refuse is the user's error (exit 3)."""
    from ditto_desk.core.importing.files import read_message

    if path is None:
        return None
    try:
        return read_message(path)
    except Refused as exc:
        raise InputError(f"{path}: {exc}") from exc
