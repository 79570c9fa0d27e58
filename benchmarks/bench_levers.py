"""Each speed lever of the CPU engine against its baseline, measured in this one process on four real
emails of 250-800 tokens (benchmarks/texts.py) with the bundled model, and printed as a ratio:

- precision: fp32 weights vs bf16 weights with bf16 autocast (the CPU's AVX512-BF16), for a training
  step (forward + backward, LoRA) and for sampling, and the first DPO step's reward margin under each
  (0 when the policy's log-probs agree with the cached reference, as they must before any update);
- torch threads: 2 vs 1;
- segments: the longest email learnt whole vs in 256-token segments (time per token of a training step);
- a sampling round: every email whole with one cap for all (1.3 x the longest text, as before) vs the
  engine's round now (samples spread over each email's segments, each with its own cap);
- micro-batch: 1 vs 2 sequences per forward pass (training step).

    python benchmarks/bench_levers.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quick import in_job_thread  # noqa: E402
from texts import real_emails  # noqa: E402

from ditto_desk.core.chat import Encoded, encode_prompt  # noqa: E402
from ditto_desk.core.config import preset  # noqa: E402
from ditto_desk.core.engine import DittoRun  # noqa: E402
from ditto_desk.core.logprobs import pad_batch  # noqa: E402
from ditto_desk.core.models import LoadedModel, ModelSettings, load_model  # noqa: E402
from ditto_desk.core.sampling import draw_samples, length_cap  # noqa: E402
from ditto_desk.core.segments import encode_demonstrations  # noqa: E402


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        fn()
        times.append(time.monotonic() - start)
    return min(times)


def in_bf16(loaded: LoadedModel) -> LoadedModel:
    """The same model with bf16 weights; train_pass and sample_round run it under bf16 autocast."""
    return replace(loaded, model=loaded.model.to(torch.bfloat16), quantization="bf16")


def autocast_for(loaded: LoadedModel):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=loaded.quantization == "bf16")


def first_dpo_margin(loaded: LoadedModel, emails) -> float:
    config = preset("quick").with_overrides(sft_max_steps=2, dpo_steps=1)
    run = DittoRun(loaded, emails, config)
    with autocast_for(loaded):
        run.run()
    return next(e["reward_margin"] for e in run.stats.log if e["phase"] == "dpo")


def with_lora(loaded: LoadedModel) -> LoadedModel:
    config = preset("quick")
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=list(config.lora_targets))
    return replace(loaded, model=get_peft_model(loaded.model, lora))


def train_pass(loaded: LoadedModel, examples: list[Encoded], micro: int = 1) -> None:
    """Forward and backward over every example, ``micro`` sequences per pass, as SFT and DPO do."""
    model = loaded.model
    model.train()
    with autocast_for(loaded):
        for start in range(0, len(examples), micro):
            batch = pad_batch(examples[start : start + micro], loaded.tokenizer.pad_token_id, "cpu")
            model(**batch).loss.backward()
    model.zero_grad(set_to_none=True)


def sample_round(loaded: LoadedModel, prompts, caps, counts, force_length: bool = False) -> int:
    torch.manual_seed(0)
    extra = {"min_new_tokens": min(caps)} if force_length else {}
    with autocast_for(loaded):
        samples = draw_samples(loaded.model, loaded.tokenizer, prompts, counts, caps, 1.0, 16, 0, **extra)
    return sum(len(s.ids) for s in samples)


def ratio_line(name: str, base_label: str, base: float, new_label: str, new: float, unit: str = "s") -> None:
    print(f"{name:34s} {base_label} {base:7.2f} {unit} | {new_label} {new:7.2f} {unit} | ratio {base / new:5.2f}x")


def measure(repeats: int) -> None:
    quick = preset("quick")
    fp32 = with_lora(load_model(ModelSettings(quantization="none")))
    bf16 = with_lora(in_bf16(load_model(ModelSettings(quantization="none"))))
    tokenizer = fp32.tokenizer
    emails = real_emails(tokenizer)
    requests, texts = [d.prompt for d in emails], [d.text for d in emails]
    segmented = encode_demonstrations(tokenizer, requests, texts, quick.segment_tokens, quick.max_length)
    examples = [e.encoded for e in segmented]
    n_tokens = sum(e.length for e in examples)
    print(f"4 real emails, {n_tokens} tokens in {len(examples)} segments; torch threads {torch.get_num_threads()}")

    print("\n== precision ==")
    t32 = best_of(repeats, lambda: train_pass(fp32, examples))
    t16 = best_of(repeats, lambda: train_pass(bf16, examples))
    ratio_line("training pass (fwd+bwd, all)", "fp32", t32, "bf16", t16)
    prompts = [e.prompt_ids for e in segmented][:4]
    caps = [64] * len(prompts)
    tokens32 = sample_round(fp32, prompts, caps, 4, force_length=True)
    s32 = best_of(repeats, lambda: sample_round(fp32, prompts, caps, 4, force_length=True))
    s16 = best_of(repeats, lambda: sample_round(bf16, prompts, caps, 4, force_length=True))
    ratio_line("sampling 16 rows x 64 tokens", "fp32", s32, "bf16", s16)
    print(f"{'':34s} fp32 {tokens32 / s32:7.1f} tok/s | bf16 {tokens32 / s16:7.1f} tok/s")
    margins = [first_dpo_margin(m, emails) for m in (load_model(ModelSettings()), in_bf16(load_model(ModelSettings())))]
    print(f"{'first DPO step reward margin':34s} fp32 {margins[0]:7.3f}   | bf16 {margins[1]:7.3f}   (must be 0)")

    print("\n== torch threads ==")
    torch.set_num_threads(1)
    t1 = best_of(repeats, lambda: train_pass(fp32, examples))
    torch.set_num_threads(2)
    t2 = best_of(repeats, lambda: train_pass(fp32, examples))
    ratio_line("training pass", "1 thread", t1, "2 threads", t2)

    print("\n== segments (the longest email) ==")
    longest = max(range(len(emails)), key=lambda i: len(texts[i]))
    whole = encode_demonstrations(tokenizer, [requests[longest]], [texts[longest]], 10**6, 4096)
    parts = [e for e in segmented if e.demo_index == longest]
    tw = best_of(repeats, lambda: train_pass(fp32, [e.encoded for e in whole]))
    tp = best_of(repeats, lambda: train_pass(fp32, [e.encoded for e in parts]))
    whole_tokens, part_tokens = sum(e.encoded.length for e in whole), sum(e.encoded.length for e in parts)
    ratio_line(
        f"ms/token, whole ({whole_tokens}) vs {len(parts)} parts ({part_tokens})",
        "whole",
        1000 * tw / whole_tokens,
        "parts",
        1000 * tp / part_tokens,
        "ms",
    )

    print("\n== a sampling round: before vs now ==")
    # Before: every email whole, one cap for all (1.3 x the longest text, within max_length). Now: the
    # engine's round, n_samples per email spread over its segments, each with its own cap.
    run = DittoRun(fp32, emails, quick)
    whole_prompts = [encode_prompt(tokenizer, r) for r in requests]
    longest_text = max(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)
    old_caps = [min(length_cap(longest_text, quick.length_factor), quick.max_length - len(p)) for p in whole_prompts]
    start = time.monotonic()
    tokens_old = sample_round(fp32, whole_prompts, old_caps, quick.n_samples)
    old = time.monotonic() - start
    start = time.monotonic()
    tokens_new = sample_round(fp32, run.prompts, run.caps, run._round_counts(0))
    new = time.monotonic() - start
    ratio_line("round of 16 samples", "before", old, "now", new)
    print(f"{'':34s} tokens drawn: before {tokens_old} (caps {sorted(set(old_caps))}), now {tokens_new}")

    print("\n== micro-batch (training pass) ==")
    m1 = best_of(repeats, lambda: train_pass(fp32, examples, micro=1))
    m2 = best_of(repeats, lambda: train_pass(fp32, examples, micro=2))
    ratio_line("sequences per forward", "1", m1, "2", m2)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    in_job_thread(lambda: measure(args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
