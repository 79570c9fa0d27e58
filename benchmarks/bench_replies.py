"""How much of the message a reply answers its request should hold: for each budget of tokens, the share of real
quoted messages kept whole, and what the longer requests cost a training pass (forward and backward over every
segment with the quick preset's LoRA, the bundled model) on four real emails that are replies.

    python benchmarks/bench_replies.py [FOLDER ...] [--repeats 2]

FOLDER: folders of .eml files (default: the shipped real-email corpus); every reply among them is counted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_levers import best_of, train_pass, with_lora  # noqa: E402
from texts import MAIL_CORPUS, real_emails  # noqa: E402

from ditto_desk.core.importing.files import import_paths  # noqa: E402
from ditto_desk.core.models.loading import load_model  # noqa: E402
from ditto_desk.core.models.settings import ModelSettings  # noqa: E402
from ditto_desk.core.texts.replies import reply_request  # noqa: E402
from ditto_desk.core.training.config import preset  # noqa: E402
from ditto_desk.core.training.segments import encode_demonstrations  # noqa: E402

BUDGETS = (64, 128, 192, 256, 384)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[MAIL_CORPUS])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    loaded = load_model(ModelSettings())
    tokenizer = loaded.tokenizer

    def tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    demos = import_paths(args.folders).demonstrations
    replies = [d for d in demos if d.context]
    lengths = sorted(tokens(d.context) for d in replies)
    print(f"{len(demos)} texts, {len(replies)} replies ({len(replies) / len(demos):.0%}); the message answered runs")
    print(
        f"to {lengths[0]}-{lengths[-1]} tokens, median {statistics.median(lengths):.0f}, "
        f"90th percentile {lengths[int(0.9 * (len(lengths) - 1))]}; below the answer in "
        f"{sum(d.context_below for d in replies)}, a sender named in {sum(bool(d.context_sender) for d in replies)}"
    )
    print("\n| budget (tokens) | messages kept whole | tokens of message per request, mean |")
    print("|---|---|---|")
    for budget in BUDGETS:
        whole = sum(n <= budget for n in lengths) / len(lengths)
        print(f"| {budget} | {whole:.0%} | {statistics.mean(min(n, budget) for n in lengths):.0f} |")

    quick = preset("quick")
    emails = [d for d in real_emails(tokenizer, n=8) if d.context][:4]
    lora = with_lora(loaded)
    print(
        f"\nA training pass over {len(emails)} real replies ({torch.get_num_threads()} threads, {loaded.quantization}):"
    )
    print("\n| budget | prompt + response tokens | segments | pass | ratio to no message |")
    print("|---|---|---|---|---|")
    base = 0.0
    for budget in (0, *BUDGETS):
        requests = [
            reply_request(tokenizer, d.context, d.prompt, d.context_sender, d.context_below, budget)
            if budget
            else d.prompt
            for d in emails
        ]
        examples = [
            e.encoded
            for e in encode_demonstrations(
                tokenizer, requests, [d.text for d in emails], quick.segment_tokens, quick.max_length
            )
        ]
        seconds = best_of(args.repeats, lambda examples=examples: train_pass(lora, examples))
        base = base or seconds
        total = sum(e.length for e in examples)
        print(f"| {budget or 'none'} | {total:,} | {len(examples)} | {seconds:.2f} s | {seconds / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
