"""Benchmark: does teaching by editing move the learned style toward the edits, and how long does it take?

For each author of a real-email corpus: learn the style from k demonstrations (quick preset, the app's own
``train_profile``); write a draft, as Compose does, for each of the author's held-out requests; take the
author's real text for that request as the user's edit of the draft (the strongest edit there is). The
first ``--taught`` edits are taught; the rest are held out: edits of the same kind, never trained on.
Then three updates, each from the same starting version (undo between them), through ``teach_profile``
as the window runs it, with a freshly loaded model each time:

- both: (edited > draft) pairs with DPO's loss, plus the chosen texts' likelihood (the app's update);
- SFT term alone: the chosen texts' likelihood only (``dpo_weight=0``);
- pairs alone: DPO's loss only (``rpo_alpha=0``).

Prints, per author and update, the wall time of the update and the change in mean per-token
log-likelihood (after - before, nats) of the taught edited texts, of the held-out edited texts, and of the
taught drafts, under the profile's adapter.

    python benchmarks/bench_teach.py [--corpus resources/mail-corpus] [--k 4] [--taught 4] [--authors A ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from ditto_desk.core.evaluation.corpus import load_corpus, split_author
from ditto_desk.core.jobs import teach_profile, train_profile
from ditto_desk.core.models.chat import Encoded, encode_prompt, encode_response
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.scoring import response_logprobs
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.training.config import preset
from ditto_desk.core.writing.writer import WriteOptions, Writer

UPDATES = {"both": {}, "SFT term alone": {"dpo_weight": 0.0}, "pairs alone": {"rpo_alpha": 0.0}}


def mean_loglik(writer: Writer, pairs: list[tuple[str, str]], max_length: int) -> float:
    """Mean per-token log-likelihood of each text given its request, as training encodes them."""
    tokenizer = writer.loaded.tokenizer
    encoded = []
    for request, text in pairs:
        prompt = encode_prompt(tokenizer, request)
        encoded.append(Encoded(prompt, encode_response(tokenizer, text, max(max_length - len(prompt), 1))))
    with torch.no_grad(), writer.loaded.autocast():
        scored = response_logprobs(writer.model, encoded, tokenizer.pad_token_id)
    return statistics.mean(total / max(n, 1) for total, n in scored)


def measure(writer: Writer, adapter: Path, sets: dict[str, list[tuple[str, str]]], max_length: int) -> dict[str, Any]:
    writer.use_adapter(adapter)
    return {name: mean_loglik(writer, pairs, max_length) for name, pairs in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("resources/mail-corpus"))
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--taught", type=int, default=4, help="edits taught; the author's other texts are held out")
    parser.add_argument("--authors", nargs="*", help="default: every author of the corpus")
    parser.add_argument("--preset", default="quick")
    args = parser.parse_args()

    config = preset(args.preset)
    authors, _ = load_corpus(args.corpus)
    settings = ModelSettings()
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in UPDATES}
    print(f"{args.corpus}, k={args.k}, {args.taught} taught edits per author, preset {args.preset}")
    print("| author | update | s | taught edited Δ | held-out edited Δ | taught drafts Δ |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as root:
        store = ProfileStore(Path(root))
        for name in args.authors or list(authors):
            split = split_author(name, authors[name], args.k, seed=0)
            store.create(name).save_demonstrations(split.demonstrations)
            train_profile(store, name, settings, config)
            writer = Writer(load_model(settings))
            writer.use_adapter(store.load(name).active_adapter_dir)
            options = WriteOptions(seed=0)
            edits = [(d.prompt, writer.write(d.prompt, options), d.text) for d in split.held_out]
            taught, held_out = edits[: args.taught], edits[args.taught :]
            profile = store.load(name)
            for request, draft, edited in taught:
                profile.add_edit(request, draft, edited)
            sets = {
                "taught": [(r, e) for r, _, e in taught],
                "held_out": [(r, e) for r, _, e in held_out],
                "drafts": [(r, d) for r, d, _ in taught],
            }
            start_version = profile.active_adapter_dir
            before = measure(writer, start_version, sets, config.max_length)
            for update, overrides in UPDATES.items():
                start = time.monotonic()
                summary = teach_profile(store, name, settings, config.with_overrides(**overrides))
                seconds = time.monotonic() - start
                after = measure(writer, summary.adapter_dir, sets, config.max_length)
                delta = {k: after[k] - before[k] for k in sets} | {"s": seconds}
                rows[update].append(delta)
                print(
                    f"| {name} | {update} | {seconds:.1f} | {delta['taught']:+.3f} | {delta['held_out']:+.3f} "
                    f"| {delta['drafts']:+.3f} |",
                    flush=True,
                )
                store.load(name).undo()
                assert store.load(name).active_adapter_dir == start_version
    print("\nMean over authors:")
    print("| update | s | taught edited Δ | held-out edited Δ | taught drafts Δ |")
    print("|---|---|---|---|---|")
    for update, deltas in rows.items():
        means = {k: statistics.mean(d[k] for d in deltas) for k in deltas[0]}
        print(
            f"| {update} | {means['s']:.1f} | {means['taught']:+.3f} | {means['held_out']:+.3f} "
            f"| {means['drafts']:+.3f} |"
        )


if __name__ == "__main__":
    main()
