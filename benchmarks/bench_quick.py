"""Benchmark: the quick preset with the bundled model, end to end, on the 4 sample demonstrations or on 4
real emails of 250-800 tokens (``--texts mail``, benchmarks/texts.py).

Prints time per phase, sampling tokens/s, DPO s/step and peak RSS; then draws the first round's
samples again the reference code's way (a transformers text-generation pipeline, batch_size 2,
num_return_sequences per prompt, max_new_tokens 1024) and our way, in this same process, and prints
both wall times, their ratio and the share of samples each way cut at its length cap; then times a
streamed compose (first token latency, tokens/s).

    python benchmarks/bench_quick.py [--texts samples|mail] [--quantization nf4] [--skip-reference] [--set KEY=VALUE]

On a machine with a CUDA GPU, the path most GPU users take (NF4 through bitsandbytes, bf16 compute), end to end:

    python benchmarks/bench_quick.py --model Qwen/Qwen2.5-0.5B-Instruct --device cuda --quantization nf4 \
        --skip-reference

It also prints the estimate the app would have shown beforehand, and DPO's reward margin at every step (a
margin that runs away and swings back is the over-optimisation the presets must avoid).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ditto_desk.cli.arguments import parse_overrides
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.planning.estimates import estimate_run
from ditto_desk.core.planning.machine import this_machine
from ditto_desk.core.progress import ProgressEvent
from ditto_desk.core.training.config import TrainingConfig, preset
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.sampling import draw_samples
from ditto_desk.core.writing.writer import WriteOptions, Writer

REQUEST = "Write an email to the team about the quarterly planning day."
TARGET_SECONDS = {"samples": 90, "mail": 120}
TARGET_RSS_MB = 2560
T = TypeVar("T")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference_way(model, tokenizer, prompts: list[str], n: int, max_new_tokens: int) -> tuple[float, list[bool]]:
    """The reference code's sampler: a text-generation pipeline, batch 2, n return sequences per prompt."""
    from transformers import pipeline

    generator = pipeline("text-generation", model=model, tokenizer=tokenizer, batch_size=2, device=model.device)
    start = time.monotonic()
    cut: list[bool] = []
    for prompt in prompts:
        outputs = generator(
            prompt,
            do_sample=True,
            temperature=1.0,
            num_return_sequences=n,
            max_new_tokens=max_new_tokens,
            return_full_text=False,
            pad_token_id=tokenizer.pad_token_id,
        )
        for out in outputs:
            n_tokens = len(tokenizer(out["generated_text"], add_special_tokens=False)["input_ids"])
            cut.append(n_tokens >= max_new_tokens - 1)
    return time.monotonic() - start, cut


def in_job_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh thread and wait, as the app runs every job in its own QThread.

    It matters for the figures: once a thread that is still alive (here, the main thread) has run
    torch's OpenMP kernels, libgomp counts more threads than cores and stops spin-waiting, and decoding
    from any other thread runs at about half speed (measured: 26 -> 13-15 tokens/s). The app's GUI
    thread never runs torch, so neither does this script's main thread.
    """
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:  # re-raised in the caller
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def train(settings: ModelSettings, texts: str, config: TrainingConfig, adapter_dir: Path) -> DittoRun:
    from texts import load

    t0 = time.monotonic()
    loaded = load_model(settings)
    load_s = time.monotonic() - t0
    demos = load(texts, loaded.tokenizer)
    lengths = [len(loaded.tokenizer(d.text, add_special_tokens=False)["input_ids"]) for d in demos]
    # What the app would have shown before the run (excluded from the timings below).
    t_measure = time.monotonic()
    machine = this_machine(loaded)
    before = estimate_run(loaded, machine, config, [d.text for d in demos])
    measure_s = time.monotonic() - t_measure
    t1 = time.monotonic()
    peaks: dict[str, float] = {}  # the peak RSS reached by the end of each phase: where memory goes

    def note_peak(event: ProgressEvent) -> None:
        peaks[str(event.phase)] = peak_rss_mb()

    run = DittoRun(loaded, demos, config, note_peak)
    run.run()
    run.write_adapter(adapter_dir)
    total_s = time.monotonic() - t1 + load_s
    stats = run.stats
    sample_entries = [e for e in stats.log if e["phase"] == "sample"]
    tokens = sum(e["tokens"] for e in sample_entries)
    margins = [round(e["reward_margin"], 2) for e in stats.log if e.get("reward_margin") is not None]
    dpo_steps = sum(1 for e in stats.log if e["phase"] == "dpo")
    print(f"\n== quick preset, {loaded.describe()}, {texts}: {len(demos)} texts of {sorted(lengths)} tokens ==")
    print(f"training examples     {len(run.training.examples)} (segments of <= {config.segment_tokens} tokens)")
    print(f"model load            {load_s:7.1f} s")
    for phase, seconds in stats.phase_seconds.items():
        print(f"{phase:21s} {seconds:7.1f} s")
    print(f"end to end            {total_s:7.1f} s   (target <= {TARGET_SECONDS[texts]} s)")
    print(
        f"sampling              {tokens / stats.phase_seconds['sample']:7.1f} tokens/s "
        f"({stats.samples_drawn} samples, {tokens} tokens, caps {sorted(set(run.training.caps))}, "
        f"{stats.samples_cut} cut)"
    )
    print(f"DPO                   {stats.phase_seconds['dpo'] / max(dpo_steps, 1):7.1f} s/step ({dpo_steps} steps)")
    print(f"DPO reward margins    {margins}")
    print(f"peak RSS              {peak_rss_mb():7.0f} MB  (target <= {TARGET_RSS_MB} MB)")
    print(f"peak RSS by phase     {', '.join(f'{phase} {mb:.0f}' for phase, mb in peaks.items())} MB")
    if loaded.device == "cuda":
        print(f"peak GPU memory       {torch.cuda.max_memory_allocated() / 2**20:7.0f} MB")
    speed = machine.speed
    assert speed is not None and before.seconds is not None
    print(
        f"estimated beforehand  {before.seconds:7.1f} s, {before.memory_bytes / 2**20:.0f} MB "
        f"(measured in {measure_s:.1f} s: forward {speed.forward_flops / 1e9:.0f} GFLOP/s, "
        f"sampling {speed.decode_flops / 1e9:.0f} GFLOP/s); actual / estimate {total_s / before.seconds:.2f}"
    )
    if machine.speed_note:
        print(f"                      {machine.speed_note}")
    return run


def compare_samplers(run: DittoRun, config: TrainingConfig) -> None:
    """The first round's draw (every text's first segment), the reference code's way and ours."""
    model, tokenizer = run.model, run.tokenizer
    firsts = [i for i, e in enumerate(run.training.examples) if e.part == 0]
    chat = [tokenizer.decode(run.training.prompts[i]) for i in firsts]
    torch.manual_seed(0)
    start = time.monotonic()
    with run.loaded.autocast():  # both ways in the precision the engine samples in
        ours = draw_samples(
            model,
            tokenizer,
            [run.training.prompts[i] for i in firsts],
            config.n_samples,
            [run.training.caps[i] for i in firsts],
            1.0,
            config.sample_batch_size,
            0,
            top_k=config.top_k,
        )
    ours_s = time.monotonic() - start
    with run.loaded.autocast():
        ref_s, ref_cut = reference_way(model, tokenizer, chat, config.n_samples, 1024)
    print(f"\n== drawing {len(ours)} samples ({config.n_samples} per prompt, temperature 1) ==")
    ref_cut_share = sum(ref_cut) / len(ref_cut)
    print(f"reference way (pipeline, batch 2, 1024 new tokens) {ref_s:7.1f} s, cut at cap {ref_cut_share:.0%}")
    print(
        f"our way (batch {config.sample_batch_size}, own caps)                {ours_s:7.1f} s, "
        f"cut at cap {sum(s.cut for s in ours) / len(ours):.0%}"
    )
    print(f"speed-up              {ref_s / ours_s:7.1f}x  (target >= 3x)")


def compose(settings: ModelSettings, adapter_dir: Path) -> None:
    writer = Writer(load_model(settings))
    writer.use_adapter(adapter_dir)
    writer.write("Warm-up.", WriteOptions(max_new_tokens=4, seed=0))  # first call builds caches
    start = time.monotonic()
    first, pieces = None, []
    for piece in writer.stream(REQUEST, WriteOptions(max_new_tokens=120, seed=1)):
        if first is None and piece.strip():
            first = time.monotonic() - start
        pieces.append(piece)
    gen_s = time.monotonic() - start
    n_tokens = len(writer.loaded.tokenizer("".join(pieces), add_special_tokens=False)["input_ids"])
    print("\n== compose, streamed with the learned adapter ==")
    print(f"first token           {first:7.2f} s  (target <= 1.5 s)")
    print(f"speed                 {n_tokens / gen_s:7.1f} tokens/s over {n_tokens} tokens (target >= 15)")
    print(f"the draft ({REQUEST!r}):")  # what a person reads, beside the speed
    print("".join(pieces).strip())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", default="samples", choices=sorted(TARGET_SECONDS))
    parser.add_argument("--model", default="bundled", help="bundled, a Hugging Face id, a folder or a .gguf file")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quantization", default="auto")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a hyperparameter")
    args = parser.parse_args()
    config = preset("quick").with_overrides(**parse_overrides(args.set))
    print(f"torch threads: {torch.get_num_threads()}, preset quick: {config}")
    with tempfile.TemporaryDirectory() as folder:
        adapter_dir = Path(folder)
        settings = ModelSettings(args.model, args.device, args.quantization)
        run = in_job_thread(partial(train, settings, args.texts, config, adapter_dir))
        if not args.skip_reference:
            in_job_thread(partial(compare_samplers, run, config))
        del run
        gc.collect()
        in_job_thread(partial(compose, settings, adapter_dir))
    print(f"peak RSS overall      {peak_rss_mb():7.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
