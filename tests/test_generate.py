"""Compose: streamed token by token, stoppable, with or without the learned adapter."""

from __future__ import annotations

import threading

import pytest
import torch

from ditto_desk.core.jobs import train_profile
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import CancelToken
from ditto_desk.core.writing.writer import WriteOptions, Writer


def test_stream_yields_pieces_and_stops_on_cancel(tiny_settings) -> None:
    writer = Writer(load_model(tiny_settings))
    pieces = list(writer.stream("Write a note", WriteOptions(max_new_tokens=12, seed=0)))
    assert len(pieces) >= 2 and "".join(pieces).strip()

    cancel = CancelToken()
    got = []
    for piece in writer.stream("Write a note", WriteOptions(max_new_tokens=400, seed=0), cancel=cancel):
        got.append(piece)
        cancel.cancel()
    assert len(got) <= 3  # stopped within a token or two of the request


def test_closing_the_stream_early_frees_the_model(tiny_settings) -> None:
    writer = Writer(load_model(tiny_settings))
    stream = writer.stream("Write", WriteOptions(max_new_tokens=400))
    next(stream)
    stream.close()
    # A lock left held would make the next write wait forever: give it 60 s, not the suite's timeout.
    finished = threading.Event()
    threading.Thread(
        target=lambda: (writer.write("Write", WriteOptions(max_new_tokens=4, seed=0)), finished.set()), daemon=True
    ).start()
    assert finished.wait(60), "closing the stream early left the model locked"


def test_adapter_changes_the_writing_and_base_stays_available(tiny_settings, tiny_config, sample_demos) -> None:
    store = ProfileStore()
    store.create("me").save_demonstrations(sample_demos)
    train_profile(store, "me", tiny_settings, tiny_config.with_overrides(sft_learning_rate=5e-2, sft_max_steps=4))
    writer = Writer(load_model(tiny_settings))
    greedy = WriteOptions(max_new_tokens=16, temperature=0.0, repetition_penalty=1.0)
    base = writer.write("Write an email", greedy)
    writer.use_adapter(store.load("me").active_adapter_dir)
    assert writer.has_adapter
    assert writer.write("Write an email", greedy, use_adapter=False) == base
    assert writer.write("Write an email", greedy) != base
    writer.use_adapter(None)
    assert writer.write("Write an email", greedy) == base


def test_the_style_strength_runs_from_the_base_model_to_the_learned_style_and_past_it(
    tiny_settings, tiny_config, sample_demos
) -> None:
    from dataclasses import replace

    store = ProfileStore()
    store.create("me").save_demonstrations(sample_demos)
    train_profile(store, "me", tiny_settings, tiny_config.with_overrides(sft_learning_rate=5e-2, sft_max_steps=4))
    writer = Writer(load_model(tiny_settings))
    greedy = WriteOptions(max_new_tokens=16, temperature=0.0, repetition_penalty=1.0)
    base = writer.write("Write an email", greedy)
    writer.use_adapter(store.load("me").active_adapter_dir)
    learned = writer.write("Write an email", greedy)
    assert learned != base
    assert writer.write("Write an email", replace(greedy, style_strength=0.0)) == base
    stronger = writer.write("Write an email", replace(greedy, style_strength=1.5))
    assert stronger not in (base, learned)
    assert writer.write("Write an email", greedy) == learned  # the learned scale is back after every draft


def test_generation_errors_reach_the_caller(tiny_settings) -> None:
    writer = Writer(load_model(tiny_settings))
    with pytest.raises(ValueError):
        list(writer.stream("Write", WriteOptions(max_new_tokens=-5)))


def test_past_the_ease_point_a_draft_that_would_run_to_the_cap_ends(tiny_settings) -> None:
    writer = Writer(load_model(tiny_settings))
    tokenizer = writer.loaded.tokenizer
    # The tiny model's end-of-text logit is exactly 0 (its row is the zeroed padding row), and easing scales the
    # logit's size: give that row small weights, as any trained model's has.
    output = writer.model.get_output_embeddings().weight
    with torch.no_grad():
        output[tokenizer.eos_token_id] = output[tokenizer.eos_token_id + 1]

    def tokens(ease_from: int | None) -> int:
        options = WriteOptions(max_new_tokens=400, ease_from=ease_from, temperature=0.0, repetition_penalty=1.0)
        return len(tokenizer(writer.write("Write a note", options), add_special_tokens=False)["input_ids"])

    # The random model never ends by itself (its text re-tokenises shorter than the 400 it ran to).
    run_on, eased = tokens(None), tokens(ease_from=20)
    assert eased < run_on / 2
