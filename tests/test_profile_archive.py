"""Taking a style anywhere: a profile as one archive that another computer imports (and
that is refused, changing nothing, when it is damaged or crafted), the adapter as a plain PEFT folder, and
the base model with the style merged in. Each must write exactly as the app does."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from ditto_desk.cli.main import main
from ditto_desk.core.errors import ArchiveError, ProfileError
from ditto_desk.core.export.adapter import export_adapter
from ditto_desk.core.export.archive import export_archive, import_archive
from ditto_desk.core.export.archive_checks import ARCHIVE_MANIFEST, ArchiveLimits
from ditto_desk.core.export.merged import export_merged
from ditto_desk.core.models.chat import encode_prompt
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.profiles.lock import LOCKS_DIR
from ditto_desk.core.profiles.profile import Profile
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.writing.writer import WriteOptions, Writer

REQUEST = "A short note to the team about Friday's meeting"
TOKENS = 12
PEFT_FILES = ("adapter_model.safetensors", "adapter_config.json", "training-log.json")


@pytest.fixture(scope="module")
def settings(tiny_model_dir: Path) -> ModelSettings:
    return ModelSettings(model=str(tiny_model_dir), device="cpu", quantization="none")


@pytest.fixture(scope="module")
def adapter_files(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA on the tiny model with random A and B (a fresh LoRA's B is zero: it would change nothing), as
    training saves it. Made once: a real training run would take longer than this whole file."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from ditto_desk.core.training.adapters import write_adapter

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=16, target_modules=targets, init_lora_weights=False))
    folder = tmp_path_factory.mktemp("adapter")
    write_adapter(model, "default", tiny_model_dir.name, folder)
    return folder


@pytest.fixture(scope="module")
def writer(settings: ModelSettings) -> Writer:
    return Writer(load_model(settings))


@pytest.fixture
def alice(tmp_path: Path, adapter_files: Path, tiny_model_dir: Path) -> Profile:
    """The trained profile 'Alice' on the first computer."""
    profile = ProfileStore(tmp_path / "machine1" / "profiles").create("Alice")
    profile.save_demonstrations([Demonstration("Hi all,\nFriday is moved to 3pm.\nAlice", "Friday meeting")])
    (profile.path / "settings.json").write_text('{"preset": "quick"}\n', encoding="utf-8")  # carried as it is
    header = {"phase": "summary", "model": {"model": str(tiny_model_dir), "name": tiny_model_dir.name}}

    def copy(folder: Path) -> None:
        for path in adapter_files.iterdir():
            shutil.copy(path, folder)

    profile.commit_adapter(copy, [header, {"phase": "sft", "step": 1, "loss": 2.5}])
    return profile


@pytest.fixture
def archive(alice: Profile, tmp_path: Path) -> Path:
    return export_archive(alice, tmp_path / "out" / "alice.zip")


@pytest.fixture
def machine2(tmp_path: Path) -> ProfileStore:
    """The other computer: a profiles root that already holds 'Bob', and an empty sentinel folder beside it."""
    store = ProfileStore(tmp_path / "machine2" / "profiles")
    store.create("Bob")
    (tmp_path / "machine2" / "sentinel").mkdir()
    return store


def greedy_ids(model: Any, tokenizer: Any) -> list[int]:
    prompt = torch.tensor([encode_prompt(tokenizer, REQUEST)])
    with torch.no_grad():
        out = model.generate(
            input_ids=prompt,
            attention_mask=torch.ones_like(prompt),
            do_sample=False,
            max_new_tokens=TOKENS,
            pad_token_id=tokenizer.pad_token_id,
        )
    return out[0, prompt.shape[1] :].tolist()


def app_ids(writer: Writer, adapter_dir: Path | None) -> list[int]:
    """What the app writes greedily with this adapter: the ids, and the same text through Writer.write."""
    writer.use_adapter(adapter_dir)
    ids = greedy_ids(writer.model, writer.loaded.tokenizer)
    options = WriteOptions(max_new_tokens=TOKENS, temperature=0, repetition_penalty=1.0)
    assert writer.write(REQUEST, options) == writer.loaded.tokenizer.decode(ids, skip_special_tokens=True).strip()
    return ids


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
        if LOCKS_DIR not in p.parts
    }


# -- the round trip --------------------------------------------------------------------------------------------


def test_round_trip_to_another_computer(alice: Profile, archive: Path, machine2: ProfileStore, writer: Writer) -> None:
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read(ARCHIVE_MANIFEST))
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zf.infolist())
        for name, entry in manifest["files"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == entry["sha256"]
    assert manifest["profile"] == "Alice" and manifest["base_model"] == writer.loaded.name
    assert not [p for p in archive.parent.iterdir() if p != archive]  # no temporary file left

    imported = import_archive(machine2, archive, "Alice at home", expected_base=writer.loaded.name)
    assert machine2.list() == ["Alice at home", "Bob"]
    again = machine2.load("Alice at home")  # verifies the adapter against its manifest
    assert again.demonstrations == alice.demonstrations
    assert (again.path / "settings.json").read_bytes() == (alice.path / "settings.json").read_bytes()
    assert again.training_log == alice.training_log and again.created == alice.created
    assert imported.active_adapter_dir is not None and alice.active_adapter_dir is not None
    for name in PEFT_FILES:
        assert (imported.active_adapter_dir / name).read_bytes() == (alice.active_adapter_dir / name).read_bytes()
    assert not [p for p in machine2.root.iterdir() if p.name.startswith(".tmp-")]

    ours = app_ids(writer, alice.active_adapter_dir)
    assert app_ids(writer, imported.active_adapter_dir) == ours
    assert ours != app_ids(writer, None)  # the style changes what is written: the comparison means something


def test_an_untrained_profile_travels_too(tmp_path: Path, machine2: ProfileStore) -> None:
    texts = ProfileStore(tmp_path / "machine1").create("Carol")
    texts.save_demonstrations([Demonstration("Cheers, C.")])
    imported = import_archive(machine2, export_archive(texts, tmp_path / "carol.zip"), expected_base="any-model")
    assert not imported.has_adapter and imported.demonstrations == texts.demonstrations


def test_a_failed_export_leaves_no_file(alice: Profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ditto_desk.core.export import archive as profile_archive

    out = tmp_path / "out"
    out.mkdir()
    (out / "alice.zip").write_bytes(b"the previous export")
    real = profile_archive._add_member

    def fail_on_weights(zf: zipfile.ZipFile, name: str, source: Path | bytes) -> dict[str, Any]:
        if name.endswith(".safetensors"):
            raise OSError(28, "No space left on device")
        return real(zf, name, source)

    monkeypatch.setattr(profile_archive, "_add_member", fail_on_weights)
    with pytest.raises(ArchiveError, match="Nothing was written"):
        export_archive(alice, out / "alice.zip", replace=True)  # replacing it, as the window's save dialog asked
    assert [p.name for p in out.iterdir()] == ["alice.zip"] and (
        out / "alice.zip"
    ).read_bytes() == b"the previous export"


# -- crafted and damaged archives ------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def craft(
    src: Path,
    dst: Path,
    *,
    replace: dict[str, bytes] | None = None,
    add: tuple[tuple[str | zipfile.ZipInfo, bytes], ...] = (),
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> Path:
    """A copy of ``src`` changed as given, its manifest listing every member truthfully (unless ``edit``
    says otherwise), so what is refused is the change itself."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != ARCHIVE_MANIFEST}
        manifest = json.loads(zf.read(ARCHIVE_MANIFEST))
    members.update(replace or {})
    entries = [*members.items(), *add]
    manifest["files"] = {getattr(n, "filename", n): {"size": len(b), "sha256": _sha(b)} for n, b in entries}
    if edit:
        edit(manifest)
    with warnings.catch_warnings(), zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        warnings.simplefilter("ignore")  # "Duplicate name": that is the point
        for name, data in entries:
            out.writestr(name, data)
        out.writestr(ARCHIVE_MANIFEST, json.dumps(manifest))
    return dst


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # unix: the mode bits below count
    info.external_attr = mode << 16
    return info


def _declare_size(src: Path, dst: Path, member: str, size: int) -> Path:
    """Rewrite the zip's central directory to declare ``size`` for ``member``, the bytes left as they are."""
    data = bytearray(src.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 46)
    dst.write_bytes(bytes(data))
    return dst


def _corrupt_member(src: Path, dst: Path) -> Path:
    """Flip the packed bytes of one member, its directory entry left intact."""
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("demonstrations.json")
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    for i in range(start + 2, start + info.compress_size - 2):
        data[i] ^= 0x55
    dst.write_bytes(bytes(data))
    return dst


def _config_of_another_model(src: Path, dst: Path) -> Path:
    """The manifest names the model in use, the adapter's own config another one."""
    with zipfile.ZipFile(src) as zf:
        config = json.loads(zf.read("adapter/adapter_config.json"))
    config["base_model_name_or_path"] = "another-model"
    return craft(src, dst, replace={"adapter/adapter_config.json": json.dumps(config).encode()})


WEIGHTS = "adapter/adapter_model.safetensors"
PICKLE = pickle.dumps({"lora_A": [0.0] * 8})  # written, never loaded
BIG = ("settings.json", b'{"pad": "' + b" " * 3_000_000 + b'"}')

CRAFTED: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "parent path": (lambda a, d: craft(a, d, add=(("../evil.json", b"{}"),)), "would land outside the profile"),
    "absolute path": (lambda a, d: craft(a, d, add=((_entry("/tmp/evil.json", 0), b"{}"),)), "outside the profile"),
    "drive letter": (lambda a, d: craft(a, d, add=(("C:/evil.json", b"{}"),)), "outside the profile"),
    "backslash": (lambda a, d: craft(a, d, add=(("adapter\\..\\..\\evil.json", b"{}"),)), "outside the profile"),
    "symlink": (
        lambda a, d: craft(a, d, add=((_entry("adapter/link.json", stat.S_IFLNK | 0o777), b"../../sentinel"),)),
        "holds a link",
    ),
    "folder": (lambda a, d: craft(a, d, add=((_entry("adapter/sub/", stat.S_IFDIR | 0o755), b""),)), "a folder"),
    "pickle": (
        lambda a, d: craft(a, d, add=(("adapter/adapter_model.bin", PICKLE),)),
        "only JSON and safetensors files are accepted",
    ),
    "pickle named safetensors": (
        lambda a, d: craft(a, d, replace={WEIGHTS: PICKLE}),
        "adapter_model.safetensors is not a valid safetensors file",
    ),
    "duplicate": (lambda a, d: craft(a, d, add=(("demonstrations.json", b"[]"),)), "demonstrations.json twice"),
    "unknown member": (lambda a, d: craft(a, d, add=(("notes.json", b"{}"),)), "not part of a profile"),
    "huge weights": (lambda a, d: _declare_size(a, d, WEIGHTS, 3_000_000_000), "2.8 GB once unpacked"),
    "zip bomb": (lambda a, d: craft(a, d, replace=dict([BIG])), "zip bomb"),
    "truncated": (lambda a, d: d.write_bytes(a.read_bytes()[: a.stat().st_size // 2]) and d, "is damaged"),
    "not a zip": (lambda a, d: d.write_bytes(b"hello, not a zip") and d, "not a Ditto Desk profile archive"),
    "corrupt member": (_corrupt_member, "is damaged"),
    "sha256 mismatch": (
        lambda a, d: craft(a, d, edit=lambda m: m["files"]["demonstrations.json"].update(sha256="0" * 64)),
        "demonstrations.json does not match the archive's list of contents",
    ),
    "unlisted member": (
        lambda a, d: craft(a, d, edit=lambda m: m["files"].pop("settings.json")),
        "do not match its list of contents",
    ),
    "newer version": (lambda a, d: craft(a, d, edit=lambda m: m.update(version=9)), "newer version of Ditto Desk"),
    "adapter of another model": (_config_of_another_model, "its style does not match its list of contents"),
    "damaged texts": (lambda a, d: craft(a, d, replace={"demonstrations.json": b'[{"prompt": 1}]'}), "damaged"),
}


@pytest.mark.parametrize("kind", list(CRAFTED))
def test_crafted_archives_are_refused_and_change_nothing(
    kind: str, archive: Path, machine2: ProfileStore, tmp_path: Path, tiny_model_dir: Path
) -> None:
    make, reason = CRAFTED[kind]
    crafted = make(archive, tmp_path / "crafted.zip")
    before = snapshot(tmp_path / "machine2")
    with pytest.raises(ArchiveError, match=reason) as info:
        import_archive(machine2, crafted, "Imported", expected_base=tiny_model_dir.name)
    message = str(info.value)
    assert "Traceback" not in message and any(w in message for w in ("Nothing was imported", "Update Ditto Desk"))
    assert snapshot(tmp_path / "machine2") == before  # the root as it was, the sentinel beside it empty
    assert not any((tmp_path / "machine2" / "sentinel").iterdir())


def test_size_caps_are_checked_before_unpacking(archive: Path, machine2: ProfileStore, tmp_path: Path) -> None:
    before = snapshot(tmp_path / "machine2")
    for limits, reason in [
        (
            ArchiveLimits(json_bytes=64),
            "once unpacked, more than the 0.1 KB such a file may take",
        ),
        (ArchiveLimits(total_bytes=1000), "more than the 1.0 KB a profile may take"),
        (ArchiveLimits(members=3), "far more than a profile has"),
    ]:
        with pytest.raises(ArchiveError, match=reason):
            import_archive(machine2, archive, "Imported", limits=limits)
    assert snapshot(tmp_path / "machine2") == before


def test_a_style_learned_on_another_model_is_refused(archive: Path, machine2: ProfileStore, tmp_path: Path) -> None:
    before = snapshot(tmp_path / "machine2")
    with pytest.raises(ArchiveError) as info:
        import_archive(machine2, archive, expected_base="SmolLM2-360M-Instruct")
    message = str(info.value)
    with zipfile.ZipFile(archive) as zf:
        learned_on = json.loads(zf.read(ARCHIVE_MANIFEST))["base_model"]
    assert f"learned on the model {learned_on}, but the model in use now is SmolLM2-360M-Instruct" in message
    assert f"choose {learned_on} as the model (in Settings" in message and "Nothing was imported" in message
    assert snapshot(tmp_path / "machine2") == before


def test_a_taken_name_is_refused_naming_a_free_one(archive: Path, machine2: ProfileStore, tmp_path: Path) -> None:
    machine2.create("alice")  # names are compared ignoring case
    (machine2.root / "Alice (2)").mkdir()  # not a profile, but the name is taken on disk all the same
    before = snapshot(tmp_path / "machine2")
    with pytest.raises(ArchiveError, match=r"'Alice' already exists.*such as 'Alice \(3\)'"):
        import_archive(machine2, archive)
    assert snapshot(tmp_path / "machine2") == before
    assert import_archive(machine2, archive, "Alice (3)").name == "Alice (3)"


# -- the style outside the app ---------------------------------------------------------------------------------


def test_the_exported_adapter_writes_like_the_app_in_plain_peft(
    alice: Profile, tmp_path: Path, tiny_model_dir: Path, writer: Writer
) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    folder = export_adapter(alice, tmp_path / "peft-adapter")
    plain = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(folder)).eval()
    assert greedy_ids(plain, writer.loaded.tokenizer) == app_ids(writer, alice.active_adapter_dir)


def test_the_merged_model_writes_like_the_app(
    alice: Profile, settings: ModelSettings, tmp_path: Path, writer: Writer
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dest = export_merged(alice, settings, tmp_path / "merged")
    assert (dest / "model.safetensors").is_file() and not list(dest.glob("*.bin"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left
    merged = AutoModelForCausalLM.from_pretrained(dest).eval()
    assert not any("lora" in name for name, _ in merged.named_parameters())
    assert greedy_ids(merged, AutoTokenizer.from_pretrained(dest)) == app_ids(writer, alice.active_adapter_dir)
    with pytest.raises(ProfileError, match="already exists and is not an empty folder"):
        export_merged(alice, settings, dest)


def test_the_command_line(alice: Profile, tmp_path: Path, tiny_model_dir: Path, capsys) -> None:
    archive = tmp_path / "alice.zip"
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    home = ["--profiles-dir", str(alice.path.parent)]
    assert main([*home, "profiles", "export-archive", "Alice", str(archive)]) == EXIT_OK
    assert main(["profiles", "import-archive", str(archive)]) == EXIT_BAD_INPUT  # the bundled model is not its base
    assert "Settings, or with --model" in capsys.readouterr().err
    assert main(["profiles", "import-archive", str(archive), "Alice 2", *model]) == EXIT_OK
    assert "Imported the profile 'Alice 2': 1 text(s), with its learned style." in capsys.readouterr().out
    assert ProfileStore().list() == ["Alice 2"]
    assert main(["profiles", "export-merged", "Alice 2", str(tmp_path / "merged"), *model]) == EXIT_OK
    assert (tmp_path / "merged" / "model.safetensors").is_file()


def test_the_corrected_drafts_travel_taught_or_waiting_as_they_were(
    alice: Profile, machine2: ProfileStore, tmp_path: Path
) -> None:
    alice.add_edit("Write an email about: the offsite", "Dear all, the offsite is Friday.", "hey all — friday!")
    current = alice.active_adapter_dir
    assert current is not None
    alice._mark_taught({alice.edits()[0].key}, current.name)  # as the update committed as this version did
    alice.add_edit("Write an email about: the build", "The build is broken.", "heads up — build's red")
    archive = export_archive(alice, tmp_path / "alice.zip")

    imported = import_archive(machine2, archive, "Alice at home")
    edits = imported.edits()
    assert [(e.request, e.draft, e.edited) for e in edits] == [(e.request, e.draft, e.edited) for e in alice.edits()]
    assert [e.edited for e in imported.waiting_edits()] == ["heads up — build's red"]  # the one still to teach
    assert imported.active_adapter_dir is not None and edits[0].taught_in == imported.active_adapter_dir.name


def test_a_full_disk_while_saving_the_merged_model_is_said_and_leaves_nothing(
    alice: Profile, settings: ModelSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers.modeling_utils
    from safetensors import SafetensorError

    def full_disk(*args, **kwargs):  # what safetensors raises when the disk fills (seen on a full tmpfs)
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(transformers.modeling_utils, "safe_save_file", full_disk)
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(ProfileError, match="No space left on device.*Nothing was exported"):
        export_merged(alice, settings, out / "merged")
    assert list(out.iterdir()) == []  # no half-written folder, no temporary one
