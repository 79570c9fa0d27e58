"""Loading the language model: the device, the quantization (bitsandbytes where it runs, bf16 on a CPU that
computes in it, full precision elsewhere) and the tokenizer, from wherever sources.py finds it."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ditto_desk.core.errors import ModelError
from ditto_desk.core.models.chat import end_answers_where_the_chat_format_does
from ditto_desk.core.models.settings import (
    DEVICES,
    QUANTIZATIONS,
    ModelSettings,
)
from ditto_desk.core.models.sources import resolve_model_source
from ditto_desk.core.progress import CancelToken, Phase, ProgressCallback, ProgressEvent, ignore_progress


@dataclass
class LoadedModel:
    model: Any  # a transformers PreTrainedModel
    tokenizer: Any  # shared with every model loaded from the same source in this process: never change it
    name: str
    device: str
    quantization: str  # what was actually used
    note: str  # a plain sentence on how it was loaded, and why, when it fell back

    def describe(self) -> str:
        return f"{self.name} · {self.device} · {self.quantization}"

    @property
    def width(self) -> int:
        """The model's hidden size (its language model's, for a multimodal one)."""
        return int(self.model.config.get_text_config().hidden_size)

    @property
    def n_layers(self) -> int:
        """How many decoder layers the model has."""
        return int(self.model.config.get_text_config().num_hidden_layers)

    def autocast(self) -> Any:
        """The context every training, scoring and sampling step runs in: bf16 autocast for a bf16 model (the
        adapter's weights stay in fp32, the matmuls run in bf16), nothing otherwise.

        Without autocast's weight cache: the cache keeps the first bf16 copy of each trainable (fp32 LoRA) weight
        for as long as the context lasts, so a whole training run inside one context would compute every forward
        pass with the adapter as it was before the first optimizer step.
        """
        if self.quantization != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16, cache_enabled=False)


def detect_device(requested: str = "auto") -> str:
    if requested not in DEVICES:
        raise ModelError(f"Unknown device {requested!r}; choose one of {', '.join(DEVICES)}.")
    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelError("CUDA was asked for but no CUDA GPU is available; choose 'auto' or 'cpu'.")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise ModelError("Apple MPS was asked for but is not available here; choose 'auto' or 'cpu'.")
    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bf16 in hardware (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _full_precision_dtype(device: str) -> torch.dtype:
    if device == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32  # training in half precision on the CPU or MPS is slower or unstable


def _bnb_config(quantization: str, device: str) -> Any:
    from transformers import BitsAndBytesConfig

    if quantization == "nf4":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=_full_precision_dtype(device),
            bnb_4bit_use_double_quant=device == "cuda",
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def disable_cpu_repacking(model: Any) -> None:
    """Keep bitsandbytes' NF4 layers on the CPU on the plain dequantize-then-matmul path.

    bitsandbytes 0.50 repacks an NF4 layer's weights for its AVX512-BF16 kernel the first time the layer
    runs in eval mode without gradients. Measured on the bundled model: afterwards LoRA training barely
    moves the eval-mode outputs (SFT log-lik -4.49 -> -4.42 where full precision reaches -3.18), and
    ``state_dict()`` unpacks the weights wrongly (a sentence's loss 3.5 -> 17.9 nats per token).
    """
    for module in model.modules():
        if getattr(module, "support_avx512bf16_for_cpu", False):
            module.support_avx512bf16_for_cpu = False


def contiguous_lm_head_input(model: Any) -> None:
    """Hand the output layer a contiguous input under bf16.

    generate() scores only the last position, a strided view of the hidden states; torch's CPU bf16 matmul
    takes about 700 MB for that view of 13 rows (nothing measurable once it is contiguous): the peak of sampling.
    """

    def make_contiguous(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(a.contiguous() if isinstance(a, torch.Tensor) else a for a in args)

    model.get_output_embeddings().register_forward_pre_hook(make_contiguous)


# Parsing tokenizer.json holds Python's lock for its whole length (0.1-0.2 s for the bundled model, more for a
# larger vocabulary): in the window, where each learning loads its own model beside the one that writes, every
# parse froze the window. One tokenizer per model and process serves every thread: the app only ever encodes
# one text at a time without padding or truncation (it pads by hand), so nothing changes the tokenizer's state.
_TOKENIZERS: OrderedDict[tuple[str, tuple[tuple[str, int, int], ...]], Any] = OrderedDict()
_TOKENIZERS_KEPT = 2
_TOKENIZERS_LOCK = threading.Lock()


def _tokenizer_files(source: str) -> tuple[tuple[str, int, int], ...]:
    """What the tokenizer is read from, by name, size and time: a folder changed on disk loads afresh."""
    folder = Path(source)
    if not folder.is_dir():
        return ()
    stats = ((f.name, f.stat()) for f in sorted(folder.iterdir()) if f.is_file() and f.suffix != ".safetensors")
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in stats)


def _shared_tokenizer(source: str, name: str) -> Any:
    from transformers import AutoTokenizer

    key = (source, _tokenizer_files(source))
    with _TOKENIZERS_LOCK:
        if key in _TOKENIZERS:
            _TOKENIZERS.move_to_end(key)
            return _TOKENIZERS[key]
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
        except Exception as exc:
            raise ModelError(f"Could not load the tokenizer of {name}: {exc}") from exc
        if not getattr(tokenizer, "chat_template", None):
            raise ModelError(f"{name} has no chat template; pick an instruction-tuned (chat) model.")
        end_answers_where_the_chat_format_does(tokenizer)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token  # masks are built from lengths, so EOS is never lost to padding
        _TOKENIZERS[key] = tokenizer
        while len(_TOKENIZERS) > _TOKENIZERS_KEPT:
            _TOKENIZERS.popitem(last=False)
        return tokenizer


def load_tokenizer(settings: ModelSettings) -> Any:
    """The model's tokenizer alone (shared, as :func:`load_model`'s): enough to word a request."""
    source, name = resolve_model_source(settings.model)
    return _shared_tokenizer(source, name)


def load_model(
    settings: ModelSettings, progress: ProgressCallback = ignore_progress, cancel: CancelToken | None = None
) -> LoadedModel:
    """Load the tokenizer and the model, quantized as asked where bitsandbytes can, else in full precision."""
    from transformers import AutoModelForCausalLM

    if settings.quantization not in QUANTIZATIONS:
        raise ModelError(f"Unknown quantization {settings.quantization!r}; choose {', '.join(QUANTIZATIONS)}.")
    device = detect_device(settings.device)
    source, name = resolve_model_source(settings.model, progress, cancel)
    progress(ProgressEvent(Phase.LOAD, f"Loading {name}…"))
    tokenizer = _shared_tokenizer(source, name)

    quantization, note = settings.quantization, ""
    if quantization == "auto":
        # NF4 pays off on CUDA, where memory is the limit. On the CPU, bitsandbytes' NF4 is slower than full
        # precision, for training and for writing alike, and bf16 is faster still where the CPU has bf16
        # arithmetic (benchmarks/levers.md).
        if device == "cuda":
            quantization = "nf4"
        elif device == "cpu" and cpu_has_native_bf16():
            quantization, note = "bf16", "bf16 on this CPU, which computes in bf16 natively (NF4 is used on CUDA)."
        else:
            quantization, note = "none", f"Full precision on {device}: NF4 is used on CUDA GPUs."
    if quantization in ("nf4", "int8") and device == "mps":
        quantization, note = "none", "bitsandbytes does not run on Apple MPS, so the model runs in full precision."
    model = None
    if quantization in ("nf4", "int8"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = AutoModelForCausalLM.from_pretrained(
                    source,
                    quantization_config=_bnb_config(quantization, device),
                    device_map={"": device},
                    use_safetensors=True,
                )
            note = f"Quantized to {quantization.upper()} with bitsandbytes on {device}."
            if device == "cpu":
                disable_cpu_repacking(model)
        except Exception as exc:  # bitsandbytes missing or unsupported here: say so and carry on
            reason = f"{exc.__class__.__name__}: {exc}"
            note = f"{quantization.upper()} quantization failed here ({reason}); using full precision instead."
            quantization = "none"
    if model is None:
        dtype = torch.bfloat16 if quantization == "bf16" else _full_precision_dtype(device)
        try:
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, use_safetensors=True)
            model = model.to(device)  # type: ignore[arg-type]  # mypy misreads transformers' wrapped .to()
        except Exception as exc:
            raise ModelError(f"Could not load {name}: {exc}") from exc
        note = (
            note or f"{'bf16' if quantization == 'bf16' else 'Full precision'} ({model.dtype}) on {device}, as chosen."
        )
    if quantization == "bf16":
        contiguous_lm_head_input(model)
    model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, name=name, device=device, quantization=quantization, note=note)
