"""`ditto-desk eval` on the tiny model: the split, the few-shot prompt, resume, and the files written."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from eval_fixtures import TOPICS, styled_text, write_corpus

from ditto_desk.cli.exit_codes import EXIT_OK
from ditto_desk.cli.main import main
from ditto_desk.core.errors import InputError, UsageError
from ditto_desk.core.evaluation import runner
from ditto_desk.core.evaluation.corpus import load_corpus, split_author, split_corpus
from ditto_desk.core.evaluation.methods import few_shot_prompt
from ditto_desk.core.texts.demonstration import Demonstration

TINY = [
    *("--set", "sft_max_steps=2", "--set", "sft_stop_loss=0", "--set", "dpo_steps=2", "--set", "resample_every=1"),
    *("--set", "n_samples=2", "--set", "dpo_batch_size=2", "--set", "max_new_tokens=6", "--set", "max_length=128"),
    *("--max-new-tokens", "8"),  # the random model never stops by itself: keep its texts short
]


def test_the_split_is_deterministic_disjoint_and_deduplicated(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", texts_per_author=6)
    (corpus / "dasher" / "copy.txt").write_text((corpus / "dasher" / "00.txt").read_text(), encoding="utf-8")
    authors, refused = load_corpus(corpus)
    assert not refused and sorted(authors) == ["dasher", "formal", "shouter"]
    assert len(authors["dasher"]) == 6  # the copy is the same text: kept once
    splits = split_corpus(authors, k=4, seed=0)
    for split in splits:
        demo_texts = {d.text for d in split.demonstrations}
        assert len(split.demonstrations) == 4 and len(split.held_out) == 2
        assert not demo_texts & {d.text for d in split.held_out}
        assert all(d.prompt for d in split.held_out)  # derived like any import's prompt
    again = split_corpus(authors, k=4, seed=0)
    assert [[d.text for d in s.held_out] for s in again] == [[d.text for d in s.held_out] for s in splits]
    others = [split_author("dasher", authors["dasher"], 4, seed) for seed in range(1, 6)]
    assert any({d.text for d in o.held_out} != {d.text for d in splits[0].held_out} for o in others)
    with pytest.raises(InputError, match="need more than k=6"):
        split_corpus(authors, k=6, seed=0)  # nothing left to hold out
    with pytest.raises(UsageError, match="--k must be between"):
        split_corpus(authors, k=8, seed=0)


def test_the_few_shot_prompt_holds_the_demonstrations_and_fits(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    demos = [Demonstration(text=f"Demo number {i}: " + "word " * 200, prompt=f"Request {i}") for i in range(4)]
    roomy = tokenizer.decode(few_shot_prompt(tokenizer, demos[:2], "The test request", budget=4000))
    assert "Demo number 0" in roomy and "Demo number 1" in roomy and "The test request" in roomy
    tight = few_shot_prompt(tokenizer, demos, "The test request", budget=400)
    assert len(tight) <= 400
    assert "The test request" in tokenizer.decode(tight)


def test_eval_end_to_end_never_trains_on_held_out_text_and_resumes(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_corpus(tmp_path / "corpus", texts_per_author=4)
    out = tmp_path / "out"
    trained_on: list[str] = []
    few_shot_prompts: list[str] = []
    real_run, real_few_shot = runner.DittoRun, runner.few_shot_prompt

    class RecordingRun(real_run):  # type: ignore[misc, valid-type]
        def __init__(self, loaded, demonstrations, *args, **kwargs) -> None:
            trained_on.extend(d.text for d in demonstrations)
            super().__init__(loaded, demonstrations, *args, **kwargs)

    def recording_few_shot(tokenizer, demonstrations, request, budget):
        ids = real_few_shot(tokenizer, demonstrations, request, budget)
        few_shot_prompts.append(tokenizer.decode(ids))
        return ids

    monkeypatch.setattr(runner, "DittoRun", RecordingRun)
    monkeypatch.setattr(runner, "few_shot_prompt", recording_few_shot)
    args = ["eval", "--corpus", str(corpus), "--k", "2", "--out", str(out), "--samples-per-prompt", "2"]
    args += ["--model", str(tiny_model_dir), "--quantization", "none", *TINY]
    assert main(args) == EXIT_OK
    printed = capsys.readouterr().out
    assert printed.index("The judge on the authors' real held-out texts") < printed.index("| method |")
    assert "3 training(s), 12 result(s) computed, 0 reused" in printed

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    held_out = {h["text"] for a in data["authors"].values() for h in a["held_out"]}
    assert len(held_out) == 6 and len(trained_on) == 6
    assert not held_out & set(trained_on)
    assert few_shot_prompts and not any(text in prompt for text in held_out for prompt in few_shot_prompts)
    for author in data["authors"].values():
        for method in ("zero-shot", "few-shot", "sft", "ditto"):
            cell = author["methods"][method]
            assert len(cell["generations"]) == 2 and all(len(g) == 2 for g in cell["generations"])
            assert len(cell["judged"]["plain"]["p_true_author"]) == 2
    # Every draft is capped as Compose would cap it, here at --max-new-tokens 8, and its length is kept.
    for path in (out / "cells").glob("*.json"):
        cell = json.loads(path.read_text(encoding="utf-8"))
        assert cell["caps"] == [8, 8] and all(0 < n <= 8 for row in cell["tokens"] for n in row), path.name
    for method, row in data["summary"].items():
        assert 0 <= row["win_rate_plain"] <= 1 and row["loglik_per_token"] < 0, method
    assert sum(row["win_rate_plain"] for row in data["summary"].values()) == pytest.approx(2.0)  # 4 methods: 4/2
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# DITTO evaluation")
    assert (out / "win_rates.png").read_bytes()[:4] == b"\x89PNG"
    # The tiny random model's adapters differ: SFT and DITTO are not the same model.
    ll = {m: data["summary"][m]["loglik_per_token"] for m in data["summary"]}
    assert ll["sft"] != ll["ditto"] and ll["zero-shot"] != ll["sft"]

    # A rerun with the same OUTDIR finds everything done: no training, no generation.
    assert main(args) == EXIT_OK
    assert "0 training(s), 0 result(s) computed, 12 reused" in capsys.readouterr().out
    assert len(trained_on) == 6

    # A crash after training lost one cell: only that cell is redone, from the saved adapters.
    (out / "cells" / "formal.ditto.json").unlink()
    assert main(args) == EXIT_OK
    assert "0 training(s), 1 result(s) computed, 11 reused" in capsys.readouterr().out
    again = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (
        again["authors"]["formal"]["methods"]["ditto"]["generations"]
        == (data["authors"]["formal"]["methods"]["ditto"]["generations"])
    )  # the same adapter and seeds give the same texts
    assert again["summary"]["ditto"]["loglik_per_token"] == pytest.approx(data["summary"]["ditto"]["loglik_per_token"])

    # Another evaluation (another commit's code, say) judges these adapters without training...
    borrowed = [a if a != str(out) else str(tmp_path / "other") for a in args] + ["--adapters-from", str(out)]
    assert main(borrowed) == EXIT_OK
    assert "0 training(s), 12 result(s) computed" in capsys.readouterr().out
    other = json.loads((tmp_path / "other" / "results.json").read_text(encoding="utf-8"))
    assert other["summary"]["sft"]["loglik_per_token"] == pytest.approx(data["summary"]["sft"]["loglik_per_token"])
    # ...but never on another split, whose held-out texts they may have been trained on.
    assert main([*borrowed, "--seed", "5", "--out", str(tmp_path / "third")]) != EXIT_OK
    assert "on another split" in capsys.readouterr().err


def test_a_changed_setup_never_reuses_stale_results(tmp_path: Path) -> None:
    """Cells are keyed by everything they come from; trainings only by what training depends on."""
    from ditto_desk.core.evaluation.store import ResultStore

    corpus = write_corpus(tmp_path / "corpus", texts_per_author=4)
    split = split_corpus(load_corpus(corpus)[0], k=2, seed=0)[0]
    store = ResultStore(tmp_path / "out")
    base = runner.EvalOptions(corpus=corpus, out=tmp_path / "out", k=2)

    def plan(**changes):
        options = runner.EvalOptions(**{**base.__dict__, **changes})
        return runner._plan(split, options, options.config, store)

    first, more_samples, other_lr = plan(), plan(samples_per_prompt=3), plan(overrides={"dpo_learning_rate": 1e-5})
    assert more_samples.train_key == first.train_key
    assert all(more_samples.cell_keys[m] != first.cell_keys[m] for m in first.cell_keys)
    assert other_lr.train_key != first.train_key
    assert other_lr.cell_keys["zero-shot"] == first.cell_keys["zero-shot"]  # the base model did not change
    assert other_lr.cell_keys["ditto"] != first.cell_keys["ditto"]
    store.save_cell(split.author, "sft", first.cell_keys["sft"], {"generations": []})
    assert "sft" not in plan().pending and "sft" in plan(seed=1).pending


def test_eval_replies_asks_each_reply_with_its_message_and_says_whether_drafts_answer_it(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(0)
    for style in ("dasher", "formal", "shouter"):
        folder = tmp_path / "corpus" / style
        folder.mkdir(parents=True)
        for i, (topic, words) in enumerate(TOPICS.items()):
            question = f"What about the {words[i]} and the {words[i + 3]} at the {topic}?"
            body = f"Bob wrote:\n> {question}\n\n{styled_text(style, words, rng)}\n"
            (folder / f"{i:02d}.eml").write_text(f"From: {style}@example.com\nSubject: {topic}\n\n{body}")
    args = ["eval", "--corpus", str(tmp_path / "corpus"), "--k", "1", "--samples-per-prompt", "1"]
    args += ["--model", str(tiny_model_dir), "--quantization", "none", *TINY]
    assert main([*args, "--out", str(tmp_path / "plain")]) == EXIT_OK
    assert main([*args, "--out", str(tmp_path / "replies"), "--replies"]) == EXIT_OK
    assert "## Does the draft answer the message" in capsys.readouterr().out

    plain = json.loads((tmp_path / "plain" / "results.json").read_text(encoding="utf-8"))
    replies = json.loads((tmp_path / "replies" / "results.json").read_text(encoding="utf-8"))
    assert not plain["setup"]["replies"]
    for request in plain["authors"]["formal"]["methods"]["ditto"]["requests"]:
        assert request.startswith("Write an email about:")  # today's requests, without the message
    for request in replies["authors"]["formal"]["methods"]["ditto"]["requests"]:
        assert request.startswith("Answer this email from Bob:\n\nWhat about the ")
    for run in (plain, replies):  # both measured against each reply's own message: the two runs compare
        rows = run["answers_the_message"]
        assert list(rows) == ["real replies", "zero-shot", "few-shot", "sft", "ditto"]
        assert rows["real replies"]["messages"] == 6 and rows["ditto"]["texts"] == 6
        assert all(0 <= row["answers"] <= 1 for row in rows.values())
    assert plain["answers_the_message"]["real replies"] == replies["answers_the_message"]["real replies"]


def test_the_relevance_measure_ranks_real_replies_high_and_replies_to_other_messages_low() -> None:
    from ditto_desk.core.evaluation.relevance import relevance
    from ditto_desk.core.importing.files import import_paths

    replies = [d for d in import_paths([Path("resources/mail-corpus")]).demonstrations if d.context]
    messages = [d.context for d in replies]
    real = relevance([d.text for d in replies], range(len(replies)), messages)
    shifted = relevance([d.text for d in replies[1:] + replies[:1]], range(len(replies)), messages)
    assert len(replies) >= 30 and real.answers >= 0.4 and shifted.answers <= 0.1 < 3 / len(replies) + 0.1
    assert real.reciprocal_rank > 3 * shifted.reciprocal_rank


def test_the_style_strength_scales_the_trained_methods_and_reuses_the_base_models_drafts(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """At strength 0 SFT and DITTO write what the base model writes (the same seeds, the update scaled to
    nothing); a rerun at another strength in the same folder redraws only the trained methods' drafts."""
    corpus = write_corpus(tmp_path / "corpus", texts_per_author=3)
    args = ["eval", "--corpus", str(corpus), "--k", "1", "--samples-per-prompt", "2", "--out", str(tmp_path / "out")]
    args += ["--model", str(tiny_model_dir), "--quantization", "none", *TINY]
    assert main(args) == EXIT_OK
    learned = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert main([*args, "--style-strength", "0"]) == EXIT_OK
    scaled = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert scaled["setup"]["decoding"]["style_strength"] == 0.0 and "style_strength" not in learned["setup"]["decoding"]
    for author, a in scaled["authors"].items():
        methods, before = a["methods"], learned["authors"][author]["methods"]
        assert methods["zero-shot"]["generations"] == before["zero-shot"]["generations"]  # reused
        assert methods["ditto"]["generations"] == methods["zero-shot"]["generations"]
        assert methods["sft"]["generations"] == methods["zero-shot"]["generations"]
        assert before["ditto"]["generations"] != before["zero-shot"]["generations"]  # the style, at strength 1
