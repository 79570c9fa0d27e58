"""``ditto-desk eval``: how well each method writes like its author, on held-out texts of a corpus."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ditto_desk.cli.arguments import (
    CORPUS_DIR,
    add_model_args,
    add_training_args,
    model_settings,
    parse_overrides,
    positive,
    seed,
    style_strength,
)
from ditto_desk.cli.exit_codes import EXIT_OK
from ditto_desk.cli.terminal import job_progress
from ditto_desk.core.profiles.store import ProfileStore


def add_parser(sub: Any) -> None:
    evaluate = sub.add_parser("eval", help="measure on held-out texts how well each method writes like its author")
    evaluate.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="a folder with one subfolder per author")
    evaluate.add_argument("--k", type=int, default=4, help="demonstrations per author (1-7); the rest are held out")
    add_training_args(evaluate)
    evaluate.add_argument("--samples-per-prompt", type=int, default=2, help="generations per held-out prompt")
    evaluate.add_argument("--out", type=Path, default=Path("eval-out"), help="results folder; a rerun resumes it")
    evaluate.add_argument("--seed", type=seed, default=0, help="seeds the split and the sampling")
    evaluate.add_argument(
        "--max-new-tokens", type=positive, help="cap every draft at this many tokens (default: as Compose)"
    )
    evaluate.add_argument(
        "--adapters-from",
        type=Path,
        metavar="OUTDIR",
        help="judge the adapters another evaluation trained (same split; an earlier commit's, say) instead of training",
    )
    evaluate.add_argument(
        "--replies",
        action="store_true",
        help="a reply's request holds the message it answers, for training and every method; the report adds "
        "whether each draft answers its message",
    )
    evaluate.add_argument(
        "--style-strength",
        type=style_strength,
        default=1.0,
        help="the learned update's scale for SFT and DITTO while they write (as Compose's Style; 1 = as learned); "
        "with the same --out, the base model's drafts are reused",
    )
    evaluate.add_argument("--threads", type=positive, help="CPU threads for torch (1 is far faster on a busy machine)")
    add_model_args(evaluate)


def run(args: argparse.Namespace, store: ProfileStore) -> int:
    from ditto_desk.core.evaluation.methods import Decoding
    from ditto_desk.core.evaluation.runner import EvalOptions, run_evaluation

    options = EvalOptions(
        corpus=args.corpus,
        out=args.out,
        k=args.k,
        preset=args.preset,
        overrides=parse_overrides(args.set),
        samples_per_prompt=args.samples_per_prompt,
        seed=args.seed,
        model=model_settings(args),
        decoding=Decoding(max_new_tokens=args.max_new_tokens, style_strength=args.style_strength),
        adapters_from=args.adapters_from,
        replies=args.replies,
    )
    options.config  # noqa: B018 - a bad preset or --set fails here, before any work
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    with job_progress() as (progress, cancel):
        result = run_evaluation(options, progress, cancel)
    for refusal in result.refused:
        print(f"refused {refusal}", file=sys.stderr)
    print(result.report.markdown)
    print(
        f"{result.trainings} training(s), {result.cells_computed} result(s) computed, {result.cells_reused} reused, "
        f"in {result.seconds:.0f}s. Saved: {', '.join(str(p) for p in result.paths.values())}"
    )
    return EXIT_OK
