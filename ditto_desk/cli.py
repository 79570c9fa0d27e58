"""The command line: the same core jobs as the window, for a terminal.

Exit codes: 0 done, 1 failed (the message says why), 2 bad usage, 3 bad input (nothing to learn
from, unreadable files), 4 the model could not be loaded, 130 cancelled (Ctrl+C; nothing changed).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ditto_desk.core.models.settings import DEVICES, QUANTIZATIONS, ModelSettings
from ditto_desk.core.training.config import DEFAULT_PRESET, PRESETS

from . import cli_profiles, cli_teach
from .exit_codes import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_MODEL, EXIT_OK, EXIT_USAGE

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "resources" / "samples"
CORPUS_DIR = Path(__file__).resolve().parent.parent / "resources" / "corpus"


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """--set key=value pairs, each checked by the setting's rule (core/training/setting_rules.py) and of its type."""
    from ditto_desk.core.errors import SettingError
    from ditto_desk.core.training.setting_rules import checked_overrides

    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise SettingError(f"--set expects key=value, got {pair!r}")
        overrides[key.strip()] = raw
    return checked_overrides(overrides)


def _non_negative(text: str) -> float:
    value = float(text)  # argparse turns a ValueError into "invalid _non_negative value"
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (0 writes greedily), got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def _model_args(parser: argparse.ArgumentParser) -> None:
    default = ModelSettings()  # the core's defaults, as the window's
    parser.add_argument(
        "--model",
        default=default.model,
        help=f"{default.model!r} (default), a Hugging Face model id, a folder, or a .gguf file (converted once)",
    )
    parser.add_argument("--device", default=default.device, choices=DEVICES)
    parser.add_argument("--quantization", default=default.quantization, choices=QUANTIZATIONS)


def _preset_arg(parser: argparse.ArgumentParser) -> None:
    # No argparse choices: an unknown preset gets the core's own message (config.preset), as a --set does.
    parser.add_argument("--preset", default=DEFAULT_PRESET, help=f"{', '.join(PRESETS)} (default {DEFAULT_PRESET})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ditto-desk", description="Teach a local language model to write like you.")
    parser.add_argument("--profiles-dir", type=Path, help="where profiles live (default: your data folder)")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation: load the bundled model, write a few tokens, check the profiles folder",
    )
    sub = parser.add_subparsers(dest="command")

    train = sub.add_parser("train", help="learn a style from demonstrations (DITTO)")
    train.add_argument("--profile", default="default", help="profile to train (created if missing)")
    train.add_argument("demos", nargs="*", type=Path, help="files or folders to add as demonstrations first")
    train.add_argument("--samples", action="store_true", help="add the bundled sample demonstrations")
    train.add_argument("--replace", action="store_true", help="replace the profile's demonstrations instead of adding")
    _preset_arg(train)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    _model_args(train)

    write = sub.add_parser("write", help="write a text in a profile's style")
    write.add_argument("request", help="what to write, e.g. 'An email to the team about Friday'")
    write.add_argument("--profile", default="default")
    write.add_argument("--base", action="store_true", help="use the base model, without the learned style")
    write.add_argument("--compare", action="store_true", help="also write the base model's answer")
    write.add_argument(
        "--max-new-tokens", type=_positive, help="the longest draft, in tokens (default: from the profile's texts)"
    )
    write.add_argument("--temperature", type=_non_negative, default=0.7)
    write.add_argument("--seed", type=int)
    _model_args(write)

    evaluate = sub.add_parser("eval", help="measure on held-out texts how well each method writes like its author")
    evaluate.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="a folder with one subfolder per author")
    evaluate.add_argument("--k", type=int, default=4, help="demonstrations per author (1-7); the rest are held out")
    _preset_arg(evaluate)
    evaluate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    evaluate.add_argument("--samples-per-prompt", type=int, default=2, help="generations per held-out prompt")
    evaluate.add_argument("--out", type=Path, default=Path("eval-out"), help="results folder; a rerun resumes it")
    evaluate.add_argument("--seed", type=int, default=0, help="seeds the split and the sampling")
    evaluate.add_argument(
        "--max-new-tokens", type=_positive, help="cap every draft at this many tokens (default: as Compose)"
    )
    evaluate.add_argument(
        "--adapters-from",
        type=Path,
        metavar="OUTDIR",
        help="judge the adapters another evaluation trained (same split; an earlier commit's, say) instead of training",
    )
    evaluate.add_argument("--threads", type=int, help="CPU threads for torch (1 is far faster on a busy machine)")
    _model_args(evaluate)

    cli_teach.add_parser(sub, _model_args, _preset_arg)

    models = sub.add_parser(
        "models", help="models to learn with: download size, licence, memory, fit and time on this computer"
    )
    models.add_argument("--profile", help="estimate with this profile's texts (default: the bundled samples)")
    _preset_arg(models)
    models.add_argument("--device", default=ModelSettings().device, choices=DEVICES)
    models.add_argument("--quantization", default=ModelSettings().quantization, choices=QUANTIZATIONS)

    cli_profiles.add_parser(sub, _model_args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:
        return _self_test(args.profiles_dir)
    if args.command is None:
        return _start_window()
    from ditto_desk.core.errors import ModelError, ProfileError, SettingError
    from ditto_desk.core.profiles.store import ProfileStore
    from ditto_desk.core.progress import Cancelled

    store = ProfileStore(args.profiles_dir)
    try:
        if args.command == "train":
            return _train(args, store)
        if args.command == "write":
            return _write(args, store)
        if args.command == "teach":
            return cli_teach.run(args, store, parse_overrides(args.set))
        if args.command == "eval":
            return _eval(args)
        if args.command == "models":
            return _models(args, store)
        return cli_profiles.run(args, store)
    except Cancelled:
        print("\nCancelled. Nothing was learned and no texts were added: the profile is as it was.", file=sys.stderr)
        return EXIT_CANCELLED
    except ModelError as exc:
        print(f"Model problem: {exc}", file=sys.stderr)
        return EXIT_MODEL
    except SettingError as exc:
        print(f"Setting problem: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ProfileError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_CANCELLED


def _start_window() -> int:
    try:
        from .ui.app import main as window_main
    except ImportError as exc:
        print(f"The desktop window is not available ({exc}); use a subcommand, e.g. `ditto-desk train --samples`.")
        return EXIT_FAILED
    return window_main([])


def _self_test(profiles_dir: Path | None) -> int:
    from ditto_desk.core.places import default_profiles_root
    from ditto_desk.core.self_test import run_self_test

    result = run_self_test(profiles_dir or default_profiles_root(), emit=lambda line: print(line, flush=True))
    if not result.ok:
        print(f"Self-test failed: {result.failures[0]}", file=sys.stderr)
        return EXIT_FAILED
    print("Self-test passed.")
    return EXIT_OK


def _train(args: argparse.Namespace, store: Any) -> int:
    from ditto_desk.core.importing.files import import_paths
    from ditto_desk.core.jobs import train_profile
    from ditto_desk.core.models.settings import ModelSettings
    from ditto_desk.core.progress import CancelToken
    from ditto_desk.core.texts.demonstration import split_new
    from ditto_desk.core.training.config import preset

    from .terminal import ProgressBar

    # Everything is checked before anything is stored: the texts given here join the profile only with
    # the run that succeeds (train_profile adds them when it commits the adapter).
    config = preset(args.preset).with_overrides(**parse_overrides(args.set))
    sources = list(args.demos)
    if args.samples:
        sources += sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix in {".eml", ".txt", ".md"})
    result = import_paths(sources) if sources else None
    for refusal in result.refused if result else []:
        print(f"refused {refusal.source}: {refusal.reason}", file=sys.stderr)
    texts = result.demonstrations if result else []
    replace = args.replace and bool(sources)  # --replace replaces with the texts given, if any
    existing = store.load(args.profile) if store.exists(args.profile) else None
    own = [] if replace or existing is None else existing.demonstrations
    new, repeated = split_new(own, texts)
    for demo in repeated:
        print(f"skipped {demo.source}: this text is already in the profile", file=sys.stderr)
    if not own and not new:
        print("Nothing to learn from: pass files or folders, or --samples.", file=sys.stderr)
        return EXIT_BAD_INPUT

    profile = existing or store.create(args.profile)  # train_profile holds and commits into a real profile
    cancel = CancelToken()
    signal.signal(signal.SIGINT, lambda *_: (cancel.cancel(), signal.signal(signal.SIGINT, signal.default_int_handler)))
    bar = ProgressBar()
    try:
        summary = train_profile(
            store,
            profile.name,
            ModelSettings(args.model, args.device, args.quantization),
            config,
            bar.update,
            cancel,
            new_texts=new,
            replace=replace,
        )
    except BaseException:
        if existing is None and not store.load(profile.name, verify=False).has_adapter:
            store.delete(profile.name)  # a run that did not succeed leaves no new, empty profile behind
        raise
    finally:
        bar.close()
    if existing is None:
        print(f"Created the profile {profile.name!r}.")
    phases = ", ".join(f"{k} {v:.0f}s" for k, v in summary.phase_seconds.items())
    print(f"Learned the style of {summary.profile!r} in {summary.seconds:.0f}s ({phases}) on {summary.model}.")
    print(f"Adapter saved in {summary.adapter_dir}")
    if replace:
        print(f"The texts of {summary.profile!r} were replaced by the {summary.texts_added} given.")
    elif sources:
        total = len(store.load(summary.profile, verify=False).demonstrations)
        print(f"{summary.texts_added} new text(s) added to {summary.profile!r}; it now holds {total}.")
    return EXIT_OK


def _write(args: argparse.Namespace, store: Any) -> int:
    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.models.settings import ModelSettings
    from ditto_desk.core.texts.prompts import as_request
    from ditto_desk.core.writing.writer import WriteOptions, Writer

    profile = store.load(args.profile)
    writer = Writer(load_model(ModelSettings(args.model, args.device, args.quantization)))
    if not args.base:
        if not profile.has_adapter:
            print(f"Profile {profile.name!r} is not trained yet: writing with the base model.", file=sys.stderr)
        else:
            writer.use_adapter(profile.active_adapter_dir)
    bounds = writer.length_for([d.text for d in profile.demonstrations], args.max_new_tokens)
    options = WriteOptions.within(bounds, args.temperature, seed=args.seed)
    request = as_request(args.request, [d.prompt for d in profile.demonstrations])
    runs = [("learned style", writer.has_adapter and not args.base)]
    if args.compare:
        runs.append(("base model", False))
    for title, use_adapter in runs:
        if len(runs) > 1:
            print(f"--- {title} ---")
        for piece in writer.stream(request, options, use_adapter=use_adapter):
            print(piece, end="", flush=True)
        print()
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from ditto_desk.core.evaluation.methods import Decoding
    from ditto_desk.core.evaluation.runner import EvalOptions, run_evaluation
    from ditto_desk.core.models.settings import ModelSettings
    from ditto_desk.core.progress import CancelToken

    from .terminal import ProgressBar

    options = EvalOptions(
        corpus=args.corpus,
        out=args.out,
        k=args.k,
        preset=args.preset,
        overrides=parse_overrides(args.set),
        samples_per_prompt=args.samples_per_prompt,
        seed=args.seed,
        model=ModelSettings(args.model, args.device, args.quantization),
        decoding=Decoding(max_new_tokens=args.max_new_tokens),
        adapters_from=args.adapters_from,
    )
    options.config  # noqa: B018 - a bad preset or --set fails here, before any work
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    cancel = CancelToken()
    signal.signal(signal.SIGINT, lambda *_: (cancel.cancel(), signal.signal(signal.SIGINT, signal.default_int_handler)))
    bar = ProgressBar()
    try:
        result = run_evaluation(options, bar.update, cancel)
    finally:
        bar.close()
    for refusal in result.refused:
        print(f"refused {refusal}", file=sys.stderr)
    print(result.report.markdown)
    print(
        f"{result.trainings} training(s), {result.cells_computed} result(s) computed, {result.cells_reused} reused, "
        f"in {result.seconds:.0f}s. Saved: {', '.join(str(p) for p in result.paths.values())}"
    )
    return EXIT_OK


def _models(args: argparse.Namespace, store: Any) -> int:
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
    print(f"Learning with the {args.preset} preset from {what} would take:")
    for model, estimate in rows:
        licence = model.licence + (", gated" if model.gated else "")
        print(f"  {model.repo_id:<36} {model.download_bytes / GB:4.1f} GB  {licence:<36} {describe_estimate(estimate)}")
    print("Use one with --model <id> (downloaded once), or give a model folder or a .gguf file.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
