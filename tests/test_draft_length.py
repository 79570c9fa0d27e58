"""A draft's length cap comes from the author's own texts, in Compose, on the command line and in the evaluation."""

from __future__ import annotations

from ditto_desk.bridge import tasks
from ditto_desk.core.app_settings import AUTO_LENGTH, AppSettings
from ditto_desk.core.evaluation.methods import Decoding
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.profiles.store import ProfileStore
from ditto_desk.core.progress import CancelToken, ignore_progress
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.writing.length import (
    DEFAULT_NEW_TOKENS,
    EASE_RATE,
    MAX_NEW_TOKENS,
    MIN_NEW_TOKENS,
    DraftLength,
    draft_length,
)
from ditto_desk.core.writing.writer import WriteOptions, Writer


def test_a_draft_has_room_for_the_authors_longest_text_and_no_less_than_half_their_shortest() -> None:
    assert draft_length([120, 180, 150]) == DraftLength(floor=60, cap=270, ease_from=150)
    assert draft_length([]) == DraftLength(0, DEFAULT_NEW_TOKENS)  # no texts yet
    assert draft_length([4]).cap == MIN_NEW_TOKENS
    assert draft_length([5000]) == DraftLength(512, MAX_NEW_TOKENS, 5000)
    assert draft_length([120, 180]).capped_at(40) == DraftLength(40, 40)  # a length the user chose wins
    # The evaluation bounds every method's drafts the same way, under its own cap if that is lower.
    assert Decoding().length([120, 180]) == DraftLength(60, 270, 150)
    assert Decoding(max_new_tokens=8).length([120, 180]) == DraftLength(8, 8)


def test_past_the_authors_median_length_the_end_of_text_is_eased_in() -> None:
    bounds = draft_length([120, 1000, 150])  # one long text does not move where the ease starts
    assert bounds.ease_from == 150
    assert bounds.ending_arguments() == {"min_new_tokens": 60, "exponential_decay_length_penalty": (150, EASE_RATE)}
    # A length the user chose is theirs: nothing eases the draft towards the author's usual length.
    assert bounds.capped_at(600).ending_arguments() == {"min_new_tokens": 60}
    assert DraftLength(60, 100, ease_from=150).ending_arguments() == {"min_new_tokens": 60}  # cut before the ease
    assert DraftLength(0, DEFAULT_NEW_TOKENS).ending_arguments() == {"min_new_tokens": 0}


def test_compose_length_is_auto_unless_the_user_sets_one() -> None:
    assert AppSettings().compose_length == AUTO_LENGTH
    assert AppSettings.from_json({"compose_length": 0}).compose_length == AUTO_LENGTH
    assert AppSettings.from_json({"compose_length": 5}).compose_length == MIN_NEW_TOKENS
    assert AppSettings.from_json({"compose_length": 9999}).compose_length == MAX_NEW_TOKENS
    # The old key held 200 for everyone who ever closed the window: it no longer pins the length.
    assert AppSettings.from_json({"compose_max_new_tokens": 200}).compose_length == AUTO_LENGTH


def _draft(writer: Writer, profile, length: int) -> list[int]:
    job = tasks.write(writer, profile, "A note to the team", length, 1.0, compare=False)
    text = "".join(piece for _, piece in job(ignore_progress, CancelToken()))
    return writer.loaded.tokenizer(text, add_special_tokens=False)["input_ids"]


def test_an_auto_length_draft_runs_to_the_cap_from_the_profiles_texts(tiny_settings) -> None:
    store = ProfileStore()
    profile = store.create("me")
    profile.save_demonstrations(
        [
            Demonstration(text="word " * 20, prompt="Write an email about: a"),
            Demonstration(text="word " * 40, prompt="Write an email about: b"),
        ]
    )
    writer = Writer(load_model(tiny_settings))
    bounds = writer.length_for([d.text for d in profile.demonstrations])
    counts = [len(writer.loaded.tokenizer(d.text)["input_ids"]) for d in profile.demonstrations]
    assert bounds == draft_length(counts)
    assert WriteOptions.within(bounds, 1.0).length == bounds  # Compose writes within all three, the ease too
    cap = bounds.cap
    # The random model never ends by itself: its draft runs to the cap (give or take re-tokenisation).
    auto = _draft(writer, profile, AUTO_LENGTH)
    assert 0.7 * cap <= len(auto) <= 1.3 * cap
    assert len(_draft(writer, profile, 2 * cap)) > 1.5 * cap  # a length the user set wins
