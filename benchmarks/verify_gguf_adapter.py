"""Check end to end that a ditto-desk adapter, written as GGUF, works in llama.cpp on the same base model.

    .venv/bin/python benchmarks/verify_gguf_adapter.py --sdist /path/to/llama_cpp_python-0.3.36.tar.gz

Steps (each timed; all output under --work, default /tmp/llamacpp; nothing is written to the repository):

1. extract the sdist (llama-cpp-python vendors llama.cpp at vendor/llama.cpp) unless --llama-cpp names a
   checkout, and build only ``llama-completion`` (CPU, Release, no curl/openssl) under ``nice -n 19``;
2. train a tiny profile (3 SFT steps on the bundled samples, no DPO) and export its adapter as a PEFT folder,
   unless --adapter names one; also a copy with every lora_B × --strong (default 4), whose effect is
   large enough that the LoRA's output differs from the base's within a few tokens;
3. write each adapter as GGUF with ``ditto_desk.core.gguf_adapter.export_gguf_adapter``;
4. write greedily (temperature 0, repetition penalty 1.15 over the whole context, as ``ditto-desk write``)
   with the app (transformers + peft, the checkpoint dequantized from the bundled Q4_1 GGUF) and with
   llama-completion on the Q4_1 GGUF itself, with and without ``--lora``, on the same prompt text; report
   how many leading tokens agree.

The comparison is on tokens: llama.cpp's text re-tokenized with the app's tokenizer. The two do not compute
the same logits (the app runs bf16 on the dequantized weights, llama.cpp Q4_1 with its own kernels), so a near
tie can break differently; what must hold is that the base runs agree, and that the LoRA runs agree with each
other where they differ from the base.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PROFILE = "gguftest"
REQUEST = "Write an email about: moving Friday's retro to Monday"


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kw)  # type: ignore[call-overload]


def timed(label: str, figures: dict[str, float], cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    start = time.perf_counter()
    done = run(cmd, **kw)
    figures[label] = round(time.perf_counter() - start, 1)
    print(f"  {label}: {figures[label]} s", flush=True)
    return done


def build_llama_cpp(args: argparse.Namespace, figures: dict[str, float]) -> tuple[Path, Path]:
    if args.llama_cpp:
        source = Path(args.llama_cpp)
    else:
        source = args.work / args.sdist.name.removesuffix(".tar.gz") / "vendor" / "llama.cpp"
        if not source.is_dir():
            with tarfile.open(args.sdist) as tar:
                tar.extractall(args.work, filter="data")
    build = args.work / "build"
    binary = build / "bin" / "llama-completion"
    if not binary.exists():
        flags = ["-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF"]
        flags += ["-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF"]
        flags += ["-DLLAMA_BUILD_APP=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF"]
        timed("cmake configure", figures, ["nice", "-n", "19", "cmake", "-S", str(source), "-B", str(build), *flags])
        timed(
            "build llama-completion",
            figures,
            ["nice", "-n", "19", "cmake", "--build", str(build), f"-j{args.jobs}", "--target", "llama-completion"],
        )
    return source, binary


def ditto(*cli: str) -> list[str]:
    return [str(REPO / ".venv" / "bin" / "ditto-desk"), *cli]


def tiny_adapter(args: argparse.Namespace, figures: dict[str, float]) -> Path:
    if args.adapter:
        return Path(args.adapter)
    target = args.work / "adapter"
    shutil.rmtree(target, ignore_errors=True)
    timed(
        "train (3 SFT steps)",
        figures,
        ditto("train", "--profile", PROFILE, "--samples", "--set", "sft_max_steps=3", "--set", "dpo_steps=0"),
    )
    run(ditto("profiles", "show", PROFILE, "--export", str(target)), stdout=subprocess.DEVNULL)
    return target


def strengthened(adapter: Path, factor: float, target: Path) -> Path:
    from safetensors.torch import load_file, save_file

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(adapter, target)
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    scaled = {k: (v * factor if "lora_B" in k else v).contiguous() for k, v in weights.items()}
    save_file(scaled, str(target / "adapter_model.safetensors"), metadata={"format": "pt"})
    return target


def app_greedy(adapter: Path, tokens: int) -> dict[str, object]:
    """What `ditto-desk write --temperature 0` writes, as token ids, with and without the adapter."""
    from ditto_desk.core.models.chat import encode_prompt
    from ditto_desk.core.models.loading import load_model
    from ditto_desk.core.models.settings import ModelSettings
    from ditto_desk.core.writing.writer import WriteOptions, Writer

    loaded = load_model(ModelSettings("bundled", "cpu", "auto"))
    tokenizer = loaded.tokenizer
    prompt_ids = encode_prompt(tokenizer, REQUEST)
    writer = Writer(loaded)
    writer.use_adapter(adapter)
    options = WriteOptions(tokens, 0.0, seed=0)
    result: dict[str, object] = {"prompt": tokenizer.decode(prompt_ids), "prompt_ids": list(prompt_ids)}
    for key, use in (("base", False), ("lora", True)):
        result[key] = writer.write(REQUEST, options, use_adapter=use)
    return result


def exact_greedy(adapter: Path, prompt_ids: list[int], tokens: int) -> dict[str, str]:
    """The same greedy decoding in fp32 with the LoRA unmerged (x + B·A·x·scale, as llama.cpp applies it): the
    app merges the adapter into bf16 weights for speed, which rounds a small adapter's effect."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ditto_desk.core.models.sources import bundled_checkpoint_dir

    folder = bundled_checkpoint_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = torch.tensor([prompt_ids])
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()

    def generate(m: object) -> str:
        with torch.no_grad():
            out = m.generate(  # type: ignore[attr-defined]
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                do_sample=False,
                repetition_penalty=1.15,
                max_new_tokens=tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        return str(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)).strip()

    result = {"base": generate(model)}
    result["lora"] = generate(PeftModel.from_pretrained(model, str(adapter)).eval())
    return result


def llama_greedy(binary: Path, model: Path, prompt: str, tokens: int, lora: Path | None) -> tuple[str, float]:
    cmd = [str(binary), "-m", str(model), "-p", prompt, "-n", str(tokens), "--temp", "0", "--seed", "0"]
    cmd += ["--repeat-penalty", "1.15", "--repeat-last-n", "512", "-no-cnv", "--no-display-prompt", "-c", "512"]
    cmd += ["-t", "2", "--simple-io", "--no-warmup"]
    if lora is not None:
        cmd += ["--lora", str(lora)]
    start = time.perf_counter()
    done = run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    return done.stdout.strip(), seconds


def agreement(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdist", type=Path, default=Path("/tmp/lcp/llama_cpp_python-0.3.36.tar.gz"))
    parser.add_argument("--llama-cpp", help="an existing llama.cpp checkout instead of the sdist")
    parser.add_argument("--work", type=Path, default=Path("/tmp/llamacpp"))
    parser.add_argument("--adapter", help="a PEFT adapter folder instead of training the tiny profile")
    parser.add_argument("--strong", type=float, default=4.0, help="lora_B factor of the second adapter")
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep-profile", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    from ditto_desk.core.export.gguf import export_gguf_adapter
    from ditto_desk.core.models.sources import (
        BUNDLED_GGUF,
        BUNDLED_PACKAGE,
        bundled_checkpoint_dir,
        prepare_bundled_model,
    )

    figures: dict[str, float] = {}
    source, binary = build_llama_cpp(args, figures)
    base_dir = prepare_bundled_model() if not bundled_checkpoint_dir().is_dir() else bundled_checkpoint_dir()
    import importlib.util

    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    assert spec is not None and spec.origin is not None
    base_gguf = Path(spec.origin).parent / BUNDLED_GGUF
    trained = tiny_adapter(args, figures)
    adapters = {
        "trained": trained,
        f"lora_B x{args.strong:g}": strengthened(trained, args.strong, args.work / "strong"),
    }

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    report: dict[str, object] = {"figures": figures}
    try:
        for name, folder in adapters.items():
            out = args.work / f"{folder.name}.gguf"
            start = time.perf_counter()
            export_gguf_adapter(folder, base_dir, out, source)
            conversion = round(time.perf_counter() - start, 1)
            app = app_greedy(folder, args.tokens)
            prompt = str(app["prompt"])
            exact = exact_greedy(folder, list(app["prompt_ids"]), args.tokens)  # type: ignore[call-overload]
            llama_base, base_s = llama_greedy(binary, base_gguf, prompt, args.tokens, None)
            llama_lora, lora_s = llama_greedy(binary, base_gguf, prompt, args.tokens, out)

            def ids(text: object) -> list[int]:
                return list(tokenizer(str(text), add_special_tokens=False)["input_ids"])

            row = {
                "gguf": str(out),
                "gguf_bytes": out.stat().st_size,
                "conversion_s": conversion,
                "llama_run_s": {"base": round(base_s, 1), "lora": round(lora_s, 1)},
                "app": {"base": app["base"], "lora": app["lora"]},
                "fp32 unmerged": exact,
                "llama.cpp": {"base": llama_base, "lora": llama_lora},
                "agree_base": agreement(ids(app["base"]), ids(llama_base)),
                "agree_lora": agreement(ids(app["lora"]), ids(llama_lora)),
                "agree_base_fp32": agreement(ids(exact["base"]), ids(llama_base)),
                "agree_lora_fp32": agreement(ids(exact["lora"]), ids(llama_lora)),
                "app_lora_leaves_base_at": agreement(ids(app["base"]), ids(app["lora"])),
                "llama_lora_leaves_base_at": agreement(ids(llama_base), ids(llama_lora)),
                "tokens": args.tokens,
            }
            if llama_lora == llama_base:
                print(f"llama.cpp wrote the same with and without {out.name}: was the LoRA applied?", flush=True)
            report[name] = row
            print(json.dumps({name: row}, indent=1, ensure_ascii=False), flush=True)
    finally:
        if not args.adapter and not args.keep_profile:
            subprocess.run(ditto("profiles", "delete", PROFILE), check=False)
    (args.work / "verify_gguf_adapter.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
