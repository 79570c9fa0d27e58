"""``ditto-desk models``: the models to learn with, and what each would take on this computer."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ditto_desk.cli.exit_codes import EXIT_OK
from ditto_desk.core.models.settings import DEVICES, QUANTIZATIONS, ModelSettings
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.training.config import DEFAULT_PRESET, PRESETS


def add_parser(sub: Any) -> None:
    models = sub.add_parser(
        "models", help="models to learn with: download size, licence, memory, fit and time on this computer"
    )
    models.add_argument("--profile", help="estimate with this profile's texts (default: the bundled samples)")
    models.add_argument("--preset", default=DEFAULT_PRESET, help=f"{', '.join(PRESETS)} (default {DEFAULT_PRESET})")
    models.add_argument("--device", default=ModelSettings().device, choices=DEVICES)
    models.add_argument("--quantization", default=ModelSettings().quantization, choices=QUANTIZATIONS)


def run(args: argparse.Namespace, store: ProfileStore) -> int:
    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.planning.estimates import GB, describe_estimate, estimate_catalog
    from ditto_desk.core.planning.machine import this_machine
    from ditto_desk.core.training.config import preset

    config = preset(args.preset)
    texts = [d.text for d in store.load(args.profile).demonstrations] if args.profile else []
    print("Measuring this computer's speed with the bundled model…", file=sys.stderr)
    loaded = load_model(ModelSettings(device=args.device, quantization=args.quantization))
    machine = this_machine(loaded)
    rows = estimate_catalog(loaded, machine, config, texts)
    what = f"{len(texts)} texts of {args.profile}" if texts else "the 4 bundled sample texts"
    print(f"This computer: {machine.device}, {machine.free_bytes / GB:.1f} GB free, {loaded.quantization}.")
    if machine.speed_note:
        print(machine.speed_note)
    print(f"Learning with the {args.preset} preset from {what} would take:")
    for model, estimate in rows:
        licence = model.licence + (", gated" if model.gated else "")
        print(f"  {model.repo_id:<36} {model.download_bytes / GB:4.1f} GB  {licence:<36} {describe_estimate(estimate)}")
    print("Use one with --model <id> (downloaded once), or give a model folder or a .gguf file.")
    return EXIT_OK
