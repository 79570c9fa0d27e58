"""Benchmark: bring your own GGUF. Converts PATH.gguf into a fresh cache (in a child process, so its peak memory
is measured apart), loads it the way the app does, and writes one short email greedily, so a person can see
whether the model writes sensibly.

Prints conversion time and peak RSS, load time and peak RSS, parameter count, and the email with its tokens/s.

    python benchmarks/bench_gguf.py PATH.gguf [--quantization none] [--tokens 80]
    python benchmarks/bench_gguf.py bundled     # the bundled model's GGUF, copied as a user's file would be
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REQUEST = "Write a two-sentence email to the team moving Friday's meeting to Monday."


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def convert(path: Path) -> None:
    """The child process: the conversion alone, with its progress."""
    from ditto_desk.core.errors import ModelError
    from ditto_desk.core.models.gguf import converted_checkpoint

    try:
        folder = converted_checkpoint(path, progress=lambda e: print(f"  [{e.phase}] {e.message}", flush=True))
    except ModelError as exc:
        print(f"refused: {exc}")
        sys.exit(4)  # the CLI's code for a model that could not be loaded
    print(f"  -> {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gguf", help="a .gguf file, or 'bundled'")
    parser.add_argument("--quantization", default="none", help="as the app's setting (default: none, fp32 on CPU)")
    parser.add_argument("--tokens", type=int, default=80)
    parser.add_argument("--convert-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.convert_only:
        return convert(Path(args.gguf))

    scratch = Path(tempfile.mkdtemp(prefix="bench-gguf-"))
    os.environ["DITTO_DESK_CACHE"] = str(scratch / "cache")  # a fresh cache: the conversion is measured
    os.environ.setdefault("TQDM_DISABLE", "1")
    try:
        if args.gguf == "bundled":
            from ditto_desk.core.models.sources import bundled_gguf_path

            path = scratch / bundled_gguf_path().name
            shutil.copyfile(bundled_gguf_path(), path)
        else:
            path = Path(args.gguf).expanduser().resolve()
        print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB")

        start = time.monotonic()
        child = subprocess.run([sys.executable, __file__, str(path), "--convert-only"], env=os.environ)
        if child.returncode:
            sys.exit(child.returncode)
        convert_s, convert_rss = time.monotonic() - start, peak_rss_mb(resource.RUSAGE_CHILDREN)

        import torch

        from ditto_desk.core.models.loading import load_model
        from ditto_desk.core.models.settings import ModelSettings
        from ditto_desk.core.writing.writer import WriteOptions, Writer

        start = time.monotonic()
        loaded = load_model(ModelSettings(model=str(path), quantization=args.quantization))
        load_s = time.monotonic() - start
        parameters = sum(p.numel() for p in loaded.model.parameters())
        start = time.monotonic()
        text = Writer(loaded).write(REQUEST, WriteOptions(max_new_tokens=args.tokens, temperature=0.0))
        write_s = time.monotonic() - start
        tokens = len(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

        print(f"model:       {loaded.describe()}  ({loaded.note})")
        print(f"parameters:  {parameters / 1e6:.1f} M")
        print(f"conversion:  {convert_s:.1f} s, peak RSS {convert_rss:.0f} MB (child process, interpreter included)")
        print(f"load:        {load_s:.1f} s from the cache, peak RSS {peak_rss_mb():.0f} MB after writing")
        speed = f"{tokens / write_s:.1f} tokens/s, {torch.get_num_threads()} torch threads"
        print(f"writing:     {tokens} tokens in {write_s:.1f} s ({speed})")
        print(f"request:     {REQUEST}\n---\n{text}\n---")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
