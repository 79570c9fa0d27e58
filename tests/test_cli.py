"""The command line: the same jobs, with exit codes that mean something."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_MODEL, EXIT_OK, EXIT_USAGE, MEANINGS
from ditto_desk.cli.main import COMMANDS, main
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.launcher import wants_window


def test_profiles_commands(capsys) -> None:
    assert main(["profiles", "create", "work"]) == EXIT_OK
    assert main(["profiles", "rename", "work", "blog"]) == EXIT_OK
    assert main(["profiles", "list"]) == EXIT_OK
    assert capsys.readouterr().out.split() == ["blog"]
    assert main(["profiles", "rename", "only-one-name"]) == EXIT_USAGE
    assert main(["profiles", "delete", "blog"]) == EXIT_OK
    assert ProfileStore().list() == []


def test_train_without_demonstrations_is_bad_input(capsys) -> None:
    assert main(["train", "--profile", "empty"]) == EXIT_BAD_INPUT
    assert "Nothing to learn from" in capsys.readouterr().err


def test_train_and_write_on_a_local_model_folder(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    good = tmp_path / "note.txt"
    good.write_text("hey all — the rota changes on monday (finally). onward, Maren", encoding="utf-8")
    bad = tmp_path / "blob.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    tiny = ["--set", "sft_max_steps=1", "--set", "dpo_steps=1", "--set", "n_samples=2", "--set", "max_new_tokens=6"]
    assert main(["train", "--profile", "me", str(good), str(bad), *model, *tiny]) == EXIT_OK
    err = capsys.readouterr().err
    assert "refused" in err and "blob.txt" in err
    profile = ProfileStore().load("me")
    assert profile.has_adapter and len(profile.demonstrations) == 1
    assert main(["write", "--profile", "me", "A note", "--max-new-tokens", "5", "--compare", *model]) == EXIT_OK
    out = capsys.readouterr().out
    assert "--- learned style ---" in out and "--- base model ---" in out


def test_a_missing_model_folder_is_a_model_error(tmp_path: Path, capsys) -> None:
    main(["profiles", "create", "me"])
    (tmp_path / "not-a-model").mkdir()
    assert main(["write", "--profile", "me", "hi", "--model", str(tmp_path / "not-a-model")]) == EXIT_MODEL
    assert "no config.json" in capsys.readouterr().err


def test_the_base_model_writes_without_any_profile(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "no-such-model")
    assert main(["write", "--base", "hi", "--model", missing]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert missing in err and "profile" not in err
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    assert main(["write", "--base", "A note", "--max-new-tokens", "4", *model]) == EXIT_OK
    assert ProfileStore().list() == []  # nothing was created for it
    assert main(["write", "--base", "--profile", "nobody", "A note", *model]) == EXIT_BAD_INPUT  # named, so needed
    assert "no profile named 'nobody'" in capsys.readouterr().err


def test_the_core_imports_no_qt() -> None:
    code = (
        "import importlib, pkgutil, sys, ditto_desk.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'ditto_desk.core.'): importlib.import_module(m.name)\n"
        "qt = ('PySide6', 'pyqtgraph', 'ditto_desk.ui', 'ditto_desk.bridge')\n"
        "bad = [m for m in sys.modules if m.startswith(qt)]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bad_settings_are_refused_before_any_work_with_exit_2(capsys) -> None:
    """Each bad --set names the setting and what it accepts; nothing is loaded, created or trained."""
    cases = {
        "bogus_key=1": "there is no setting 'bogus_key'",
        "sft_max_steps=abc": "sft_max_steps must be a whole number",
        "n_samples=0": "n_samples must be a whole number at least 1",
        "dpo_batch_size=0": "dpo_batch_size must be a whole number at least 1",
        "lora_targets=q_proj v_proj": "lora_targets must be a comma-separated list",
        "max_length=1": "max_length must be a whole number at least 96",
        "foo": "--set expects key=value",
    }
    for setting, message in cases.items():
        assert main(["train", "--samples", "--profile", "p", "--set", setting]) == EXIT_USAGE, setting
        assert message in capsys.readouterr().err
    assert main(["train", "--samples", "--profile", "p", "--preset", "fast"]) == EXIT_USAGE
    assert "unknown preset 'fast'" in capsys.readouterr().err
    assert ProfileStore().list() == []


def test_a_negative_temperature_is_refused(capsys) -> None:
    try:
        main(["write", "hello", "--temperature", "-1"])
    except SystemExit as exit_:
        assert exit_.code == EXIT_USAGE
    assert "must be from 0 (greedy) to 2" in capsys.readouterr().err


def test_models_lists_each_recommended_model_with_what_it_would_take_here(capsys) -> None:
    from ditto_desk.core.models.catalog import CATALOG

    assert main(["models", "--quantization", "none"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "This computer: cpu" in out and "4 bundled sample texts" in out
    for model in CATALOG:
        line = next(line for line in out.splitlines() if model.repo_id in line)
        assert "GB" in line and " · about " in line and ("gated" in line) == model.gated


def test_profiles_versions_undo_and_pin(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hey all — the rota changes on monday (finally). onward, Maren", encoding="utf-8")
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    tiny = ["--set", "sft_max_steps=1", "--set", "dpo_steps=0"]
    for _ in range(2):
        assert main(["train", "--profile", "me", str(note), *model, *tiny]) == EXIT_OK
    capsys.readouterr()
    assert main(["profiles", "versions", "me"]) == EXIT_OK
    newest, older = capsys.readouterr().out.splitlines()
    assert newest.endswith("(current)") and not older.endswith(")")
    older = older.strip()
    assert main(["profiles", "history", "me"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(newest.split()[0]) and "(current)" in lines[0]
    assert "from 1 text" in lines[0] and "SFT loss" in lines[0] and "learned 20" in lines[1]
    assert main(["profiles", "pin", "me", older]) == EXIT_OK
    assert main(["profiles", "undo", "me"]) == EXIT_OK
    assert ProfileStore().load("me").active_adapter_dir.name == older
    assert main(["profiles", "undo", "me"]) == EXIT_BAD_INPUT  # nothing earlier
    assert "no earlier learned style" in capsys.readouterr().err


def test_teach_keeps_an_edit_from_files_and_updates_the_style(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    note = tmp_path / "note.txt"
    note.write_text("hey all — the rota changes on monday (finally). onward, Maren", encoding="utf-8")
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    tiny = ["--set", "sft_max_steps=1", "--set", "dpo_steps=0", "--set", "max_new_tokens=6"]
    assert main(["train", "--profile", "me", str(note), *model, *tiny]) == EXIT_OK
    draft, edited = tmp_path / "draft.txt", tmp_path / "edited.txt"
    draft.write_text("Dear team, the rota will change on Monday.", encoding="utf-8")
    edited.write_text("hey all — rota changes monday. onward, Maren", encoding="utf-8")
    edit = ["--request", "the rota", "--draft", str(draft), "--edited", str(edited)]
    assert main(["teach", "--profile", "me", *edit, "--later", *model]) == EXIT_OK
    assert "1 edit(s) waiting" in capsys.readouterr().out
    assert main(["teach", "--profile", "me", "--request", "x", "--draft", str(draft), "--edited", str(draft)]) == (
        EXIT_BAD_INPUT
    )
    assert "same as the draft" in capsys.readouterr().err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for endless in ("/dev/zero", str(fifo)):  # would grow without end, or wait forever
        assert main(["teach", "--profile", "me", "--request", "x", "--draft", endless, "--edited", str(edited)]) == (
            EXIT_BAD_INPUT
        )
        assert "not a regular file" in capsys.readouterr().err
    before = ProfileStore().load("me").active_adapter_dir
    assert main(["teach", "--profile", "me", *model, *tiny, "--set", "teach_steps=1"]) == EXIT_OK
    profile = ProfileStore().load("me")
    assert profile.active_adapter_dir != before and profile.waiting_edits() == []
    assert profile.edits()[0].request == "Write a text about: the rota"
    capsys.readouterr()
    assert main(["profiles", "history", "me"]) == EXIT_OK
    assert "taught 1 edit" in capsys.readouterr().out.splitlines()[0]


def test_export_gguf_says_what_it_needs(tiny_model_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    """Without llama.cpp's converter the GGUF export says where to point; a profile with no style has none."""
    monkeypatch.delenv("DITTO_DESK_LLAMA_CPP", raising=False)
    main(["profiles", "create", "empty"])
    assert main(["profiles", "export-gguf", "empty", str(tmp_path / "a.gguf")]) == EXIT_BAD_INPUT
    assert "not learned a style yet" in capsys.readouterr().err
    note = tmp_path / "note.txt"
    note.write_text("hey all — the rota changes on monday (finally). onward, Maren", encoding="utf-8")
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    tiny = ["--set", "sft_max_steps=1", "--set", "dpo_steps=0"]
    assert main(["train", "--profile", "me", str(note), *model, *tiny]) == EXIT_OK
    assert main(["profiles", "export-gguf", "me", str(tmp_path / "me.gguf"), *model]) == EXIT_BAD_INPUT
    assert "DITTO_DESK_LLAMA_CPP" in capsys.readouterr().err and not (tmp_path / "me.gguf").exists()


def test_a_bug_is_exit_1_with_its_traceback_never_bad_input(monkeypatch, capsys) -> None:
    """Only problems the core worded for the user get their own exit codes; anything else is a bug, said as one."""

    def broken(args, store) -> int:
        raise ValueError("an index went wrong somewhere")

    monkeypatch.setattr(COMMANDS["train"], "run", broken)
    assert main(["train", "--samples"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "Traceback" in err and "This is a bug" in err and "ValueError: an index went wrong" in err


def test_help_lists_every_exit_code(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == EXIT_OK
    out = capsys.readouterr().out
    assert all(f"  {code:<4} {meaning[:20]}" in out for code, meaning in MEANINGS.items())
    assert "opens its window" in out


def test_the_launcher_opens_the_window_only_when_no_command_is_asked_for() -> None:
    assert wants_window([]) and wants_window(["--dark"]) and wants_window(["-platform", "offscreen"])
    assert not wants_window(["train", "--samples"]) and not wants_window(["--profiles-dir", "x", "profiles", "list"])
    assert not wants_window(["--self-test"]) and not wants_window(["--help"])
    assert not wants_window(["trian"])  # a mistyped command: the command line says which commands there are


REPLY_EML = """From: Ann Smith <ann@example.com>
To: Bob Jones <bob@example.com>
Subject: Re: {subject}
Content-Type: text/plain; charset=utf-8

On Tue, 4 Mar 2025 at 09:12, Bob Jones <bob@example.com> wrote:
> {question}

{answer}

--
Ann
"""


def test_a_reply_profile_trains_and_writes_a_reply_to_an_email(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    texts = [
        ("Release", "Can we still ship on Thursday?", "Yes, Thursday works, and I will tell the client today."),
        ("Retro", "Shall we move the retro to Monday?", "Monday at ten is fine by me, as long as it stays short."),
    ]
    paths = []
    for n, (subject, question, answer) in enumerate(texts):
        paths.append(tmp_path / f"reply{n}.eml")
        paths[-1].write_text(REPLY_EML.format(subject=subject, question=question, answer=answer), encoding="utf-8")
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    tiny = ["--set", "sft_max_steps=1", "--set", "dpo_steps=1", "--set", "n_samples=2", "--set", "max_new_tokens=6"]
    assert main(["train", "--profile", "me", *map(str, paths), *model, *tiny]) == EXIT_OK
    demos = ProfileStore().load("me").demonstrations
    assert [(d.context, d.context_sender) for d in demos] == [(q, "Bob Jones") for _, q, _ in texts]
    capsys.readouterr()

    incoming = tmp_path / "incoming.eml"
    incoming.write_text(
        "From: Carol <carol@example.com>\nSubject: Budget\n\nCan you send the budget before May?\n", encoding="utf-8"
    )
    write = ["write", "--profile", "me", "--max-new-tokens", "5", *model]
    assert main([*write, "--reply-to", str(incoming), "yes, but not before May"]) == EXIT_OK
    assert capsys.readouterr().out.strip()
    assert main([*write, "--reply-to", str(incoming)]) == EXIT_OK  # what to say is optional in a reply
    assert main([*write, "--reply-to", str(tmp_path / "missing.eml")]) == EXIT_BAD_INPUT
    assert "missing.eml" in capsys.readouterr().err
    assert main(write) == EXIT_USAGE  # neither a request nor an email to answer

    # An edit of a reply keeps the message it answers, worded as `write --reply-to` worded the request.
    draft, edited = tmp_path / "draft.txt", tmp_path / "edited.txt"
    draft.write_text("Dear Carol, I will send the budget.", encoding="utf-8")
    edited.write_text("Sure, Carol: the budget comes on Friday.", encoding="utf-8")
    teach = ["teach", "--profile", "me", "--draft", str(draft), "--edited", str(edited), "--later", *model]
    assert main([*teach, "--reply-to", str(incoming)]) == EXIT_OK
    (edit,) = ProfileStore().load("me").edits()
    assert "Carol" in edit.request and "Can you send the budget before May?" in edit.request
    assert edit.edited == "Sure, Carol: the budget comes on Friday."
    assert main([*teach, "--request", ""]) == EXIT_USAGE  # an edit of nothing asked
    assert main(["teach", "--profile", "me", "--request", "x"]) == EXIT_USAGE  # no draft, no edited text
    assert len(ProfileStore().load("me").edits()) == 1


def test_values_no_draft_could_use_are_refused_before_anything_loads(tmp_path: Path, capsys) -> None:
    missing = ["--model", str(tmp_path / "no-model")]  # loading it would exit 4: these end earlier
    for args in (
        ["write", "hi", "--temperature", "inf", *missing],
        ["write", "hi", "--temperature", "nan", *missing],
        ["write", "hi", "--seed", "1180591620717411303424", *missing],
        ["eval", "--threads", "-1", *missing],
        ["eval", "--seed", "-3", *missing],
    ):
        with pytest.raises(SystemExit) as exited:  # argparse's own refusal, with the usage line
            main(args)
        assert exited.value.code == EXIT_USAGE, args
    assert "must be from 0 (greedy) to 2" in capsys.readouterr().err
    assert main(["write", "x" * 100_000, *missing]) == EXIT_BAD_INPUT
    assert "at most 2,000 characters" in capsys.readouterr().err


def test_ctrl_c_while_the_libraries_load_says_stopped_not_a_traceback() -> None:
    """The interrupt arrives exactly as the command line starts to import (where torch and the core load)."""
    code = (
        "import builtins, os, signal\n"
        "real = builtins.__import__\n"
        "def interrupting(name, *args, **kwargs):\n"
        "    if name == 'ditto_desk.cli.main':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = interrupting\n"
        "from ditto_desk.launcher import main\n"
        "raise SystemExit(main(['models']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130 and "Traceback" not in done.stderr and "Stopped." in done.stderr


def test_a_learning_and_a_draft_show_the_app_s_words_not_the_libraries(tiny_model_dir: Path, tmp_path: Path) -> None:
    """In a terminal a user reads only what ditto-desk says: no library's warning, deprecation or progress bar."""
    note = tmp_path / "note.txt"
    note.write_text("hey all — the rota changes on monday (finally). onward, Maren", encoding="utf-8")
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    # The quick preset checkpoints DPO's activations, where the libraries warn about deprecated names.
    tiny = ["--preset", "quick", "--set", "sft_max_steps=1", "--set", "dpo_steps=1", "--set", "n_samples=2"]
    for args in (
        ["train", "--profile", "me", str(note), *model, *tiny, "--set", "max_new_tokens=6"],
        ["write", "--profile", "me", "A note", "--max-new-tokens", "5", *model],
    ):
        command = [sys.executable, "-m", "ditto_desk.launcher", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert done.returncode == EXIT_OK, done.stderr
        for chatter in ("Warning", "warn(", "deprecated", "Failed to load", "Loading weights", "it/s]"):
            assert chatter not in done.stderr + done.stdout, (chatter, done.stderr)
