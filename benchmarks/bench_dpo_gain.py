"""Benchmark: what DITTO's DPO phase adds to the SFT model it starts from, on texts it never saw.

For each author of a corpus and each training seed: one training (quick preset unless --preset) on k
demonstrations, then, on the author's held-out texts, DPO's implicit reward of the real text over SFT's own
drafts for the same requests (core/evaluation/preference.py): its mean and the share of pairs in which
DITTO prefers the author's text. SFT scores 0 on both by definition. Prints one row per training and the
spread over seeds.

    python benchmarks/bench_dpo_gain.py [--corpus resources/corpus] [--k 4] [--seeds 42 7 1] [--authors A ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from ditto_desk.cli.arguments import parse_overrides
from ditto_desk.core.evaluation.corpus import load_corpus, split_author
from ditto_desk.core.evaluation.preference import held_out_preference
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.training.config import preset
from ditto_desk.core.training.engine import DittoRun


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("resources/corpus"))
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 1])
    parser.add_argument("--authors", nargs="*", help="default: every author of the corpus")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--drafts", type=int, default=4, help="SFT drafts per held-out text")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    authors, _ = load_corpus(args.corpus)
    names = args.authors or list(authors)
    base = preset(args.preset).with_overrides(**parse_overrides(args.set))
    print(f"{args.corpus}, k={args.k}, preset {args.preset}, {args.drafts} SFT drafts per held-out text")
    print("| author | seed | pairs | DITTO prefers the real text | mean reward margin | last training margin | s |")
    print("|---|---|---|---|---|---|---|")
    by_seed: dict[int, list[float]] = {s: [] for s in args.seeds}
    for seed in args.seeds:
        for name in names:
            split = split_author(name, authors[name], args.k, seed=0)
            config = base.with_overrides(seed=seed)
            start = time.monotonic()
            loaded = load_model(ModelSettings())
            run = DittoRun(loaded, split.demonstrations, config)
            with loaded.autocast():
                model = run.run()
                result = held_out_preference(
                    model,
                    loaded.tokenizer,
                    [d.prompt for d in split.held_out],
                    [d.text for d in split.held_out],
                    config,
                    args.drafts,
                    seed=seed,
                )
            last = [e["reward_margin"] for e in run.stats.log if e["phase"] == "dpo"][-1]
            by_seed[seed].append(result.mean)
            print(
                f"| {name} | {seed} | {len(result.margins)} | {result.accuracy:.0%} | {result.mean:+.3f} "
                f"| {last:+.2f} | {time.monotonic() - start:.0f} |",
                flush=True,
            )
    means = [statistics.mean(v) for v in by_seed.values() if v]
    listed = ", ".join(f"{m:+.3f}" for m in means)
    print(f"\nmean margin per seed: {listed}; min {min(means):+.3f}, max {max(means):+.3f}")


if __name__ == "__main__":
    main()
