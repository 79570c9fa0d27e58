"""``ditto-desk --self-test``: is this installation able to work? The installed app's smoke test.

It says what it finds (versions, device, quantization, where things live), checks that the profiles folder
takes a file, then loads the default (bundled) model and generates a few tokens. Each line is handed to
``emit`` as soon as it is known, so a slow model load shows where it stands. No Qt here: PySide6's version
is read from its package metadata, without importing it.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from ditto_desk.core.models.settings import ModelSettings

from .. import __version__

PROMPT = "Say hello to the team in one short sentence."
# The distributions whose versions matter when something goes wrong; PySide6 under either wheel's name.
_PACKAGES = ("torch", "transformers", "peft", "trl", "bitsandbytes", ("PySide6-Essentials", "PySide6"))


@dataclass
class SelfTestResult:
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _version(names: str | tuple[str, ...]) -> str:
    for name in (names,) if isinstance(names, str) else names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def check_writable(folder: Path) -> str | None:
    """Why a file can't be created (and deleted) in ``folder``, or None. Creates the folder if it is missing."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".self-test-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return (
            f"The profiles folder {folder} is not writable ({reason}). Give yourself write access to it, or "
            "choose another one with --profiles-dir or the DITTO_DESK_HOME environment variable."
        )
    return None


def run_self_test(
    profiles_root: Path,
    emit: Callable[[str], None] = lambda line: None,
    settings: ModelSettings | None = None,
    max_new_tokens: int = 8,
) -> SelfTestResult:
    """Run every check in order; stop at the first failure (the later checks build on the earlier ones)."""
    result = SelfTestResult()

    def say(line: str) -> None:
        result.lines.append(line)
        emit(line)

    def fail(message: str) -> SelfTestResult:
        result.failures.append(message)  # the caller says it, where failures go (stderr for the command line)
        return result

    say(f"ditto-desk: {__version__} ({Path(__file__).resolve().parents[2]})")
    say(f"python: {platform.python_version()} ({sys.executable})")
    for names in _PACKAGES:
        say(f"{names if isinstance(names, str) else names[1]}: {_version(names)}")
    say(f"profiles folder: {profiles_root}")
    problem = check_writable(profiles_root)
    if problem:
        return fail(problem)
    say("profiles folder writable: yes")

    # torch is imported only now: a broken torch install still gets the lines above printed.
    try:
        from ditto_desk.core.errors import ModelError
        from ditto_desk.core.models.loading import load_model
        from ditto_desk.core.places import cache_root
        from ditto_desk.core.writing.writer import WriteOptions, Writer
    except Exception as exc:  # a broken install: say which import failed rather than show a traceback
        return fail(f"The libraries could not be imported: {exc.__class__.__name__}: {exc}")

    say(f"model cache: {cache_root()}")
    settings = settings or ModelSettings()
    start = time.monotonic()
    try:
        loaded = load_model(settings)
    except Exception as exc:  # ModelError says what to do; anything else is reported as it is
        detail = str(exc) if isinstance(exc, ModelError) else f"{exc.__class__.__name__}: {exc}"
        return fail(f"The model {settings.model!r} could not be loaded: {detail}")
    say(f"model: {loaded.name} ({time.monotonic() - start:.1f}s to load)")
    say(f"device: {loaded.device}")
    say(f"quantization: {loaded.quantization}" + (f" - {loaded.note}" if loaded.note else ""))
    start = time.monotonic()
    try:
        text = Writer(loaded).write(PROMPT, WriteOptions(max_new_tokens=max_new_tokens, temperature=0.0))
    except Exception as exc:  # any failure inside generate() is this check's answer
        return fail(f"Generating text with {loaded.name} failed: {exc.__class__.__name__}: {exc}")
    tokens = len(loaded.tokenizer(text, add_special_tokens=False)["input_ids"])
    if tokens == 0:
        return fail(f"{loaded.name} generated no text for a simple request.")
    say(f"generated {tokens} tokens in {time.monotonic() - start:.1f}s: {text!r}")
    return result
