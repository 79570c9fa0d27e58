"""Kill -9 a learning at random moments, run the same command again, and check what the user would: the profile is
always old or new (never a style without its texts), the second run continues or starts afresh and says which, and
its style is the one an unbroken learning learns (same seed).

    python benchmarks/bench_resume_kills.py [--kills 20] [--seed 0] [--keep DIR] [--small]

Each trial is a fresh profile learning the bundled sample texts through `ditto-desk train` (a small budget),
killed at a random moment in the first 80 % of an unbroken run's time, with the bundled model or, with --small, a
4-layer model of random weights and the bundled tokenizer (the same engine, checkpoints and commits, in seconds).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from ditto_desk.core.profiles.adapter_folder import ADAPTER_WEIGHTS
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.training.checkpoint import kept_learning

BUDGET = ["--preset", "quick", "--set", "sft_max_steps=6", "--set", "dpo_steps=4", "--set", "resample_every=2"]
BUDGET += ["--set", "n_samples=2", "--set", "max_new_tokens=48"]


def command(root: Path, profile: str, model: list[str]) -> list[str]:
    launcher = [sys.executable, "-m", "ditto_desk.launcher", "--profiles-dir", str(root)]
    return [*launcher, "train", "--profile", profile, "--samples", *BUDGET, *model]


def small_model(folder: Path) -> list[str]:
    """A small Llama of random weights with the bundled model's tokenizer, saved in ``folder``."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from ditto_desk.core.models.sources import prepare_bundled_model

    if not (folder / "config.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(prepare_bundled_model())
        torch.manual_seed(0)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=True,
        )
        LlamaForCausalLM(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return ["--model", str(folder), "--quantization", "none"]


def weights(store: ProfileStore, profile: str) -> dict[str, torch.Tensor]:
    folder = store.load(profile).active_adapter_dir
    assert folder is not None
    return load_file(str(folder / ADAPTER_WEIGHTS))


def state(store: ProfileStore, profile: str) -> str:
    """'none' (no profile), 'old' (no style, no texts), 'new' (a style and its 4 texts) or 'HALF: …'."""
    if not store.exists(profile):
        return "none"
    loaded = store.load(profile)
    texts, styled = len(loaded.demonstrations), loaded.has_adapter
    if (texts, styled) == (0, False):
        return "old"
    if styled and texts == 4 and (loaded.record and loaded.record.demonstrations == 4):
        return "new"
    return f"HALF: {texts} texts, style {'yes' if styled else 'no'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="a folder for the profiles (default: a temporary one)")
    parser.add_argument("--small", action="store_true", help="a small random model instead of the bundled one")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="resume-kills-"))
    model = small_model(root.parent / f"{root.name}-model") if args.small else []
    store = ProfileStore(root)
    start = time.monotonic()
    subprocess.run(command(root, "unbroken", model), check=True, capture_output=True)
    unbroken_s = time.monotonic() - start
    unbroken = weights(store, "unbroken")
    print(f"unbroken learning: {unbroken_s:.0f} s")
    rng = random.Random(args.seed)
    print("| trial | killed at | after the kill | kept | second run said | after it | style vs unbroken |")
    print("|---|---|---|---|---|---|---|")
    tally: dict[str, int] = {}
    for trial in range(1, args.kills + 1):
        name = f"trial-{trial}"
        at = rng.uniform(1.0, 0.8 * unbroken_s)  # the model loads first; the commit comes at the very end
        running = subprocess.Popen(command(root, name, model), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            running.wait(timeout=at)
            finished_first = True
        except subprocess.TimeoutExpired:
            os.kill(running.pid, signal.SIGKILL)
            running.wait()
            finished_first = False
        after_kill = state(store, name) if not finished_first else "finished before the kill"
        kept = kept_learning(root / name) or "–"
        second = subprocess.run(command(root, name, model), capture_output=True, text=True)
        lines = second.stdout.splitlines() + second.stderr.splitlines()
        said = next((line[line.index("Starting afresh") :] for line in lines if "Starting afresh" in line), "")
        said = said or next((line.strip() for line in lines if line.startswith("Continued")), "")
        said = said or ("failed: " + second.stderr.strip().splitlines()[-1] if second.returncode else "started anew")
        after = state(store, name)
        if after == "new":
            mine = weights(store, name)
            diff = max((mine[k].float() - unbroken[k].float()).abs().max().item() for k in unbroken)
            same = "identical" if diff == 0 else f"max |Δ| {diff:.2e}"
        else:
            same = "–"
        outcome = "resumed" if said.startswith("Continued") else "afresh" if "afresh" in said else said
        for counted in (outcome, f"after the kill {after_kill.split(':')[0]}", f"after the second run {after}"):
            tally[counted] = tally.get(counted, 0) + 1
        print(f"| {trial} | {at:.1f} s | {after_kill} | {kept} | {said} | {after} | {same} |", flush=True)
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
