"""OUTDIR: what a rerun may reuse. Each (author, method) cell and each author's two adapters are
written atomically once finished, with a fingerprint of everything they were computed from; a
rerun reuses a file only when its fingerprint matches, so a changed setup never mixes in stale data.

    OUTDIR/adapters/<author>/{sft,ditto}/   PEFT adapter folders
    OUTDIR/adapters/<author>/training.json  fingerprint, training log (written last: the commit mark)
    OUTDIR/cells/<author>.<method>.json     generations and log-likelihoods
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ditto_desk.core.atomic import atomic_write_json
from ditto_desk.core.errors import InputError
from ditto_desk.core.evaluation.corpus import AuthorSplit
from ditto_desk.core.training.adapters import POLICY_ADAPTER, REFERENCE_ADAPTER, write_adapter

# Where each adapter of a trained model is kept, by the method it stands for.
ADAPTER_FOLDERS = {REFERENCE_ADAPTER: "sft", POLICY_ADAPTER: "ditto"}


def fingerprint(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name)


class ResultStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ----- cells -----
    def cell_path(self, author: str, method: str) -> Path:
        return self.root / "cells" / f"{_safe(author)}.{method}.json"

    def load_cell(self, author: str, method: str, key: str) -> dict[str, Any] | None:
        data = _read_json(self.cell_path(author, method))
        return data if data is not None and data.get("fingerprint") == key else None

    def save_cell(self, author: str, method: str, key: str, cell: dict[str, Any]) -> None:
        path = self.cell_path(author, method)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {"fingerprint": key, **cell})

    # ----- adapters -----
    def adapter_dir(self, author: str) -> Path:
        return self.root / "adapters" / _safe(author)

    def has_adapters(self, author: str, key: str) -> bool:
        folder = self.adapter_dir(author)
        data = _read_json(folder / "training.json")
        if data is None or data.get("fingerprint") != key:
            return False
        return all((folder / sub / "adapter_model.safetensors").is_file() for sub in data.get("adapters", []))

    def save_adapters(self, author: str, key: str, model: Any, base_name: str, log: dict[str, Any]) -> None:
        """Every adapter of the peft model into its folder; training.json last, as the commit mark."""
        folder = self.adapter_dir(author)
        (folder / "training.json").unlink(missing_ok=True)  # whatever follows is not trusted until rewritten
        saved = []
        for adapter, sub in ADAPTER_FOLDERS.items():
            if adapter not in model.peft_config:
                continue
            write_adapter(model, adapter, base_name, folder / sub)
            saved.append(sub)
        atomic_write_json(folder / "training.json", {"fingerprint": key, "adapters": saved, **log})

    def load_adapters(self, author: str, base_model: Any) -> Any:
        """The base model with the saved adapters under their training names (training/adapters.py)."""
        from peft import PeftModel

        folder = self.adapter_dir(author)
        saved = (_read_json(folder / "training.json") or {}).get("adapters", [])
        model: Any = None
        # The policy first: it is "default", the adapter a plain PeftModel is built around.
        for adapter, sub in sorted(ADAPTER_FOLDERS.items(), key=lambda kv: kv[0] != POLICY_ADAPTER):
            if sub not in saved:
                continue
            if model is None:
                model = PeftModel.from_pretrained(base_model, str(folder / sub), adapter_name=adapter)
            else:
                model.load_adapter(str(folder / sub), adapter_name=adapter)
        if model is None:
            raise ValueError(f"no saved adapters for {author!r}")
        model.set_adapter(POLICY_ADAPTER)
        model.eval()
        return model

    def training_log(self, author: str) -> dict[str, Any] | None:
        return _read_json(self.adapter_dir(author) / "training.json")

    def borrowed_training_key(self, split: AuthorSplit) -> str:
        """The fingerprint of the training that the evaluation in this folder (an earlier commit's, say) ran for
        ``split``'s author, once its report shows the same split: the same demonstrations, the same held-out
        texts. Its adapters can then be judged by other evaluation code without training on held-out text."""
        author = ((_read_json(self.root / "results.json") or {}).get("authors") or {}).get(split.author)
        log = self.training_log(split.author)
        if author is None or log is None or not self.has_adapters(split.author, log.get("fingerprint", "")):
            raise InputError(f"{self.root} holds no finished evaluation with adapters for {split.author!r}")
        same_demos = [d.get("source") for d in author.get("demonstrations", [])] == [
            d.source for d in split.demonstrations
        ]
        same_held_out = [d.get("text") for d in author.get("held_out", [])] == [d.text for d in split.held_out]
        if not (same_demos and same_held_out):
            raise InputError(
                f"{self.root} trained {split.author!r} on another split (another corpus, --k or --seed): "
                "its adapters may have seen the held-out texts"
            )
        return str(log["fingerprint"])


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
