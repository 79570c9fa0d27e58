"""DITTO's two LoRA adapters on one model, the frozen copy that makes the reference, and the one way an
adapter is written to disk.

The design calls them "sft" and "ditto". The policy keeps peft's and trl's name, "default": trl's
DPOTrainer looks up the trained adapter under that name. The reference is the engine's own frozen copy
of the policy as SFT left it, "sft", and its fingerprint is checked each time it is used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from peft import get_peft_model_state_dict
from safetensors.torch import save as safetensors_bytes

from ditto_desk.core.atomic import atomic_write_bytes, atomic_write_json
from ditto_desk.core.profiles.adapter_folder import ADAPTER_CONFIG, ADAPTER_WEIGHTS, REFERENCE_WEIGHTS

POLICY_ADAPTER = "default"  # the design's "ditto": SFT trains it, then DPO
REFERENCE_ADAPTER = "sft"  # DPO's reference: a frozen copy of the policy as SFT left it


class ReferenceChangedError(RuntimeError):
    """The frozen reference adapter is not what it was when it was made: DPO must not go on against it."""


def _parameters(model: Any, adapter: str) -> dict[str, torch.nn.Parameter]:
    """One adapter's LoRA parameters by name (peft names them ``...lora_A.<adapter>.weight``)."""
    return {name: param for name, param in model.named_parameters() if f".{adapter}." in name}


def adapter_weights(model: Any, adapter: str) -> dict[str, torch.Tensor]:
    """One LoRA adapter's weights, keyed as PEFT saves them, on the CPU.

    Read from the parameters, not model.state_dict(): that would also walk (and, on the CPU, unpack) the
    quantized base layers, which is slow and was where bitsandbytes corrupted NF4 weights.
    """
    # save_embedding_layers=False: the LoRA never targets the embeddings, and peft's "auto" asks the Hugging Face
    # hub for the base model's config.json (a network call at every save, which the app must not make).
    state = get_peft_model_state_dict(
        model, state_dict=_parameters(model, adapter), adapter_name=adapter, save_embedding_layers=False
    )
    return {k: v.detach().to("cpu").contiguous() for k, v in state.items()}


def fingerprint(model: Any, adapter: str) -> str:
    """A hash of one adapter's weights, bit for bit."""
    digest = hashlib.sha256()
    for name, param in sorted(_parameters(model, adapter).items()):
        digest.update(name.encode())
        digest.update(param.detach().to("cpu").contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def freeze_copy(model: Any, source: str, target: str) -> str:
    """Add ``target`` as an exact, frozen copy of adapter ``source`` (``source`` stays active and trainable);
    return the copy's fingerprint for :func:`check_frozen`."""
    model.add_adapter(target, model.peft_config[source])
    copies = _parameters(model, target)
    with torch.no_grad():
        for name, param in _parameters(model, source).items():
            copies[name.replace(f".{source}.", f".{target}.")].copy_(param)
    model.set_adapter(source)  # peft makes the active adapter trainable and every other one frozen
    check_frozen(model, target)
    return fingerprint(model, target)


def snapshot(model: Any, adapter: str) -> dict[str, torch.Tensor]:
    """A copy of one adapter's weights as they are now, for :func:`restore`."""
    return {name: param.detach().clone() for name, param in _parameters(model, adapter).items()}


def restore(model: Any, adapter: str, saved: dict[str, torch.Tensor]) -> None:
    """Put back one adapter's weights from :func:`snapshot`, bit for bit."""
    with torch.no_grad():
        for name, param in _parameters(model, adapter).items():
            param.copy_(saved[name])


def check_frozen(model: Any, adapter: str, expected: str | None = None) -> None:
    """Raise :class:`ReferenceChangedError` unless ``adapter`` exists, nothing can train it, and (given
    ``expected``) its weights are bit for bit what they were."""
    if adapter not in model.peft_config:
        raise ReferenceChangedError(f"the model has no {adapter!r} adapter")
    trainable = [name for name, param in _parameters(model, adapter).items() if param.requires_grad]
    if trainable:
        raise ReferenceChangedError(f"the {adapter!r} adapter is trainable ({trainable[0]})")
    if expected is not None and fingerprint(model, adapter) != expected:
        raise ReferenceChangedError(f"the {adapter!r} adapter's weights changed since it was frozen")


def adapter_config(model: Any, adapter: str, base_name: str) -> dict[str, Any]:
    """The adapter's PEFT config as plain JSON data, naming the base model, as PEFT saves it (for inference)."""
    config = model.peft_config[adapter].to_dict()
    config["base_model_name_or_path"] = base_name
    config["inference_mode"] = True
    plain: dict[str, Any] = json.loads(json.dumps(config, default=list))  # sets (target_modules) become lists
    return plain


def write_adapter(model: Any, adapter: str, base_name: str, folder: Path, reference: str | None = None) -> None:
    """One adapter as a standard PEFT folder (adapter_model.safetensors + adapter_config.json), each file
    written atomically; plain ``peft`` loads it. With ``reference``, that adapter's weights go beside it as
    reference_model.safetensors (keyed as PEFT keys the adapter: :func:`load_for_update` reads them back)."""
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(folder / ADAPTER_WEIGHTS, safetensors_bytes(adapter_weights(model, adapter)))
    atomic_write_json(folder / ADAPTER_CONFIG, adapter_config(model, adapter, base_name))
    if reference is not None:
        atomic_write_bytes(folder / REFERENCE_WEIGHTS, safetensors_bytes(adapter_weights(model, reference)))


def write_trained(model: Any, base_name: str, folder: Path) -> None:
    """A run's result: the policy as a standard PEFT folder, with its frozen SFT reference beside it (the policy
    itself when no DPO ran: then it is SFT's)."""
    reference = REFERENCE_ADAPTER if REFERENCE_ADAPTER in model.peft_config else POLICY_ADAPTER
    write_adapter(model, POLICY_ADAPTER, base_name, folder, reference)


def load_for_update(base_model: Any, folder: Path) -> tuple[Any, str]:
    """A saved version ready for an update: its policy as the trainable adapter, its SFT reference as the
    frozen one, whose fingerprint is returned for :func:`check_frozen`. A version saved before references
    were kept has none: the policy itself, frozen as it is, is its reference then."""
    from peft import PeftModel, set_peft_model_state_dict
    from safetensors.torch import load_file

    model = PeftModel.from_pretrained(base_model, str(folder), adapter_name=POLICY_ADAPTER, is_trainable=True)
    if not (folder / REFERENCE_WEIGHTS).is_file():
        return model, freeze_copy(model, POLICY_ADAPTER, REFERENCE_ADAPTER)
    model.add_adapter(REFERENCE_ADAPTER, model.peft_config[POLICY_ADAPTER])
    weights = load_file(str(folder / REFERENCE_WEIGHTS), device=str(next(model.parameters()).device))
    result = set_peft_model_state_dict(model, weights, adapter_name=REFERENCE_ADAPTER)
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ReferenceChangedError(f"the saved reference does not fit the adapter ({unexpected[0]})")
    model.set_adapter(POLICY_ADAPTER)  # the active adapter trains, every other one is frozen
    check_frozen(model, REFERENCE_ADAPTER)
    return model, fingerprint(model, REFERENCE_ADAPTER)
