"""The texts given to `ditto-desk train` join the profile only with the run that succeeds, never twice;
and the window, the command line and the evaluation agree on which texts are the same."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import (the window test below)

import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from ditto_desk.cli.arguments import SAMPLES_DIR
from ditto_desk.cli.exit_codes import EXIT_BAD_INPUT, EXIT_MODEL, EXIT_OK, EXIT_USAGE
from ditto_desk.cli.main import main  # noqa: E402
from ditto_desk.core.importing.files import import_paths  # noqa: E402
from ditto_desk.core.profiles.store import ProfileStore  # noqa: E402
from ditto_desk.core.texts.demonstration import Demonstration  # noqa: E402

CAFE = "Café on Thursday, everyone: bring the draft, I'll bring the pastries. — Zoë"
# The same text as a mail client or macOS may hand it back: rewrapped, decomposed accents, a final newline.
CAFE_AGAIN = unicodedata.normalize("NFD", CAFE.replace("draft, ", "draft,\n  ")) + "\n"
OTHER = "The rota changes on Monday; swap with someone if the new slot doesn't suit you. Maren"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _samples() -> list[Path]:
    return sorted(p for p in SAMPLES_DIR.iterdir() if p.suffix in {".eml", ".txt", ".md"})


@pytest.fixture
def four_texts() -> ProfileStore:
    """The profile 'me' holding the four sample texts."""
    store = ProfileStore()
    store.create("me").save_demonstrations(import_paths(_samples()).demonstrations)
    return store


def _texts(store: ProfileStore) -> list[str]:
    return [d.text for d in store.load("me").demonstrations]


def test_a_refused_run_adds_no_texts(four_texts: ProfileStore, tmp_path: Path, capsys) -> None:
    before = _texts(four_texts)
    note = _write(tmp_path / "note.txt", OTHER)
    assert main(["train", "--profile", "me", str(note), "--preset", "no-such-preset"]) in (EXIT_USAGE, EXIT_BAD_INPUT)
    assert "preset" in capsys.readouterr().err
    assert _texts(four_texts) == before


def test_a_failed_run_adds_no_texts_and_says_so(four_texts: ProfileStore, tmp_path: Path, capsys) -> None:
    """The issue's case: the samples given again (4 texts must not become 8), and the run fails."""
    before = _texts(four_texts)
    no_model = tmp_path / "no-model"
    no_model.mkdir()
    note = _write(tmp_path / "note.txt", OTHER)
    assert main(["train", "--profile", "me", "--samples", str(note), "--model", str(no_model)]) == EXIT_MODEL
    err = capsys.readouterr().err
    assert err.count("this text is already in the profile") == 4
    assert _texts(four_texts) == before


def test_texts_join_with_the_run_that_succeeds_and_only_once(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ProfileStore()
    store.create("me").save_demonstrations([Demonstration(text=CAFE, prompt="An email about the meeting")])
    again = _write(tmp_path / "cafe.txt", CAFE_AGAIN)
    other = _write(tmp_path / "rota.txt", OTHER)
    model = ["--model", str(tiny_model_dir), "--quantization", "none"]
    tiny = ["--set", "sft_max_steps=1", "--set", "dpo_steps=1", "--set", "n_samples=2", "--set", "max_new_tokens=6"]
    assert main(["train", "--profile", "me", str(again), str(other), *model, *tiny]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "cafe.txt: this text is already in the profile" in err
    assert "1 new text(s) added to 'me'; it now holds 2." in out
    profile = store.load("me")
    assert [d.text for d in profile.demonstrations] == [CAFE, OTHER] and profile.has_adapter
    assert profile.training_log[0]["demonstrations"] == 2  # what it learned from is what it holds


def test_the_rule_of_sameness() -> None:
    from ditto_desk.core.texts.demonstration import text_key

    assert text_key(CAFE) == text_key(CAFE_AGAIN)
    assert text_key(CAFE) != text_key(CAFE.lower())  # case is part of a style


def test_the_window_uses_the_rule(tmp_path: Path, qtbot) -> None:
    from ditto_desk.core.app_settings import AppSettings
    from ditto_desk.ui.demos_page import DemonstrationsPage
    from ditto_desk.ui.session import Session

    session = Session(ProfileStore(tmp_path / "window"), AppSettings())
    assert session.create_profile("me")
    page = DemonstrationsPage(session)
    qtbot.addWidget(page)
    page.add_text(CAFE)
    page.add_text(CAFE_AGAIN)
    assert [d.text for d in page.demos] == [CAFE]
    refused = page.refusals.list
    assert any("already in the list" in refused.item(i).text() for i in range(refused.count()))
    page.add_text(CAFE.lower())
    assert len(page.demos) == 2


def test_the_command_line_uses_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ProfileStore()
    store.create("me").save_demonstrations([Demonstration(text=CAFE)])
    no_model = tmp_path / "no-model"
    no_model.mkdir()  # the run fails at the model, so nothing is trained
    again = _write(tmp_path / "cafe.txt", CAFE_AGAIN)
    assert main(["train", "--profile", "me", str(again), "--model", str(no_model)]) == EXIT_MODEL
    assert "cafe.txt: this text is already in the profile" in capsys.readouterr().err


def test_the_evaluation_uses_the_rule(tmp_path: Path) -> None:
    """The same text twice in one author's folder is kept once (so it can't be both shown and held out)."""
    from ditto_desk.core.evaluation.corpus import load_corpus

    corpus = tmp_path / "corpus"
    _write(corpus / "zoe" / "a.txt", CAFE)
    _write(corpus / "zoe" / "b.txt", CAFE_AGAIN)
    _write(corpus / "zoe" / "c.txt", OTHER)
    _write(corpus / "maren" / "a.txt", OTHER + " Again.")
    authors, _ = load_corpus(corpus)
    assert sorted(d.text for d in authors["zoe"]) == sorted([CAFE, OTHER])


def test_a_failed_run_on_a_new_profile_leaves_no_empty_profile(tmp_path: Path, capsys) -> None:
    no_model = tmp_path / "no-model"
    no_model.mkdir()
    assert main(["train", "--profile", "fresh", "--samples", "--model", str(no_model)]) == EXIT_MODEL
    assert "Created the profile" not in capsys.readouterr().out
    assert ProfileStore().list() == []
