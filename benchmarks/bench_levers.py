"""Each speed and memory lever of the CPU engine against its baseline, measured in this one process on four
real emails of 250-800 tokens (benchmarks/texts.py) with the bundled model, and printed as a ratio:

- precision: fp32 weights vs bf16 weights with bf16 autocast (the CPU's AVX512-BF16), for a training
  step (forward + backward, LoRA) and for sampling, and the first DPO step's reward margin under each
  (0 when the policy's log-probs agree with the cached reference, as they must before any update);
- bf16 sampling: 16 vs 32 rows per batch; the prompt pass's memory with the output layer given the
  hidden states' strided last position (as generate() does) vs a contiguous copy;
- scoring a long email: one log-softmax over all positions vs 256 positions at a time (peak memory);
- torch threads: 2 vs 1;
- segments: the longest email learnt whole vs in segments (time per token of a training step);
- a sampling round: every email whole with one cap for all (1.3 x the longest text, as before) vs the
  engine's round now (samples spread over each email's segments, each with its own cap);
- micro-batch: 1 vs 2 sequences per forward pass (training step).

    python benchmarks/bench_levers.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_quick import in_job_thread  # noqa: E402
from texts import real_emails  # noqa: E402

from ditto_desk.core.models.chat import Encoded, encode_prompt  # noqa: E402
from ditto_desk.core.models.loading import LoadedModel, load_model  # noqa: E402
from ditto_desk.core.models.scoring import pad_batch, response_logprobs  # noqa: E402
from ditto_desk.core.models.settings import ModelSettings  # noqa: E402
from ditto_desk.core.training.config import preset  # noqa: E402
from ditto_desk.core.training.engine import DittoRun  # noqa: E402
from ditto_desk.core.training.examples import length_cap  # noqa: E402
from ditto_desk.core.training.sampling import draw_samples  # noqa: E402
from ditto_desk.core.training.segments import encode_demonstrations  # noqa: E402


def best_of(repeats: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        fn()
        times.append(time.monotonic() - start)
    return min(times)


class PeakRss:
    """Peak resident memory above the level at entry, polled every millisecond, in MB."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss_mb()
        self.running = True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()

    @property
    def mb(self) -> float:
        return self.peak - self.start


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def first_dpo_margin(loaded: LoadedModel, emails) -> float:
    config = preset("quick").with_overrides(sft_max_steps=2, dpo_steps=1)
    run = DittoRun(loaded, emails, config)
    run.run()
    return next(e["reward_margin"] for e in run.stats.log if e["phase"] == "dpo")


def logits_logprob_sum(model, example: Encoded, pad_id: int) -> float:
    """The way scoring worked before: one fp32 log-softmax (cross-entropy) over every position at once."""
    batch = pad_batch([example], pad_id, "cpu")
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
        targets = batch["labels"][:, 1:]
        logps = -torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100, reduction="sum"
        )
    return float(logps)


def with_lora(loaded: LoadedModel) -> LoadedModel:
    config = preset("quick")
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=list(config.lora_targets))
    return replace(loaded, model=get_peft_model(loaded.model, lora))


def train_pass(loaded: LoadedModel, examples: list[Encoded], micro: int = 1) -> None:
    """Forward and backward over every example, ``micro`` sequences per pass, as SFT and DPO do."""
    model = loaded.model
    model.train()
    with loaded.autocast():
        for start in range(0, len(examples), micro):
            batch = pad_batch(examples[start : start + micro], loaded.tokenizer.pad_token_id, "cpu")
            model(**batch).loss.backward()
    model.zero_grad(set_to_none=True)


def sample_round(loaded: LoadedModel, prompts, caps, counts, force_length: bool = False, rows: int = 16) -> int:
    torch.manual_seed(0)
    extra = {"min_new_tokens": min(caps)} if force_length else {}
    with loaded.autocast():
        samples = draw_samples(loaded.model, loaded.tokenizer, prompts, counts, caps, 1.0, rows, 0, **extra)
    return sum(len(s.ids) for s in samples)


def ratio_line(name: str, base_label: str, base: float, new_label: str, new: float, unit: str = "s") -> None:
    print(f"{name:34s} {base_label} {base:7.2f} {unit} | {new_label} {new:7.2f} {unit} | ratio {base / new:5.2f}x")


def measure(repeats: int) -> None:
    quick = preset("quick")
    fp32 = with_lora(load_model(ModelSettings(quantization="none")))
    bf16 = with_lora(load_model(ModelSettings(quantization="bf16")))
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
    margins = [first_dpo_margin(load_model(ModelSettings(quantization=q)), emails) for q in ("none", "bf16")]
    print(f"{'first DPO step reward margin':34s} fp32 {margins[0]:7.3f}   | bf16 {margins[1]:7.3f}   (must be 0)")

    print("\n== bf16 sampling ==")
    all_prompts = [e.prompt_ids for e in segmented]
    b16 = best_of(repeats, lambda: sample_round(bf16, all_prompts, [96] * len(all_prompts), 2, True, rows=16))
    b32 = best_of(repeats, lambda: sample_round(bf16, all_prompts, [96] * len(all_prompts), 2, True, rows=32))
    ratio_line(f"{2 * len(all_prompts)} samples x 96 tokens, rows/batch", "16", b16, "32", b32)
    # The same bf16 weights without load_model's contiguous copy for the output layer.
    strided = replace(bf16, model=with_lora(load_model(ModelSettings(quantization="none"))).model.to(torch.bfloat16))
    memory = []
    for model in (strided, bf16):
        with PeakRss() as peak:
            sample_round(model, all_prompts[:13], [1] * 13, 1, rows=13)
        memory.append(peak.mb)
    ratio_line("prompt pass of 13 rows, extra RSS", "strided", memory[0], "contiguous", memory[1], "MB")

    print("\n== scoring the longest email (reference log-probs, fluency) ==")
    whole = encode_demonstrations(tokenizer, requests, texts, 10**6, 4096)
    longest_example = max((e.encoded for e in whole), key=lambda e: e.length)
    pad = tokenizer.pad_token_id
    with PeakRss() as before:
        logits_sum = logits_logprob_sum(fp32.model, longest_example, pad)
    with PeakRss() as chunked:
        chunked_sum = response_logprobs(fp32.model, [longest_example], pad)[0][0]
    ratio_line(f"{longest_example.length} tokens, extra RSS", "all at once", before.mb, "chunked", chunked.mb, "MB")
    print(f"{'':34s} log-prob sums: {logits_sum:.3f} vs {chunked_sum:.3f}")

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
    training = run.training
    tokens_new = sample_round(fp32, training.prompts, training.caps, training.round_counts(0, run.config.n_samples))
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
