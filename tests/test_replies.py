"""A reply's request holds the message it answers, cut to a budget on the side the answer is nearest to; texts
without one keep their requests; profiles saved before replies load."""

from __future__ import annotations

import json

import pytest

from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.replies import CONTEXT_TOKENS, demonstration_request, nearest_tokens, reply_request
from ditto_desk.core.training.config import preset
from ditto_desk.core.training.examples import TrainingSet


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def words(n: int, stem: str = "word") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


def test_a_reply_request_holds_the_message_and_the_request(tokenizer) -> None:
    request = reply_request(tokenizer, "Can we ship on Thursday?", "Write an email about: Release", "Bob Jones")
    assert request == "Answer this email from Bob Jones:\n\nCan we ship on Thursday?\n\nWrite an email about: Release"
    assert reply_request(tokenizer, "Can we?", "") == "Answer this email:\n\nCan we?"


def test_a_long_message_keeps_the_part_nearest_the_answer_within_the_budget(tokenizer) -> None:
    message = words(400)
    end = nearest_tokens(tokenizer, message, 50, from_start=False)
    start = nearest_tokens(tokenizer, message, 50, from_start=True)
    assert end.startswith("… ") and end.endswith("word399") and start.startswith("word0 ") and start.endswith(" …")
    for cut in (end, start):
        assert len(tokenizer(cut.strip("… "), add_special_tokens=False)["input_ids"]) <= 50
        assert all(word in message.split() for word in cut.strip("… ").split())  # whole words only


def test_a_demonstration_without_a_message_keeps_its_request(tokenizer) -> None:
    plain = Demonstration(text="Thanks, see you Monday.", prompt="Write an email about: Monday")
    assert demonstration_request(tokenizer, plain) == "Write an email about: Monday"
    reply = Demonstration(text="Yes, Thursday.", prompt="Write an email about: Release", context="Thursday?")
    assert demonstration_request(tokenizer, reply) == "Answer this email:\n\nThursday?\n\nWrite an email about: Release"


def test_every_segment_of_a_long_reply_answers_the_message(tokenizer) -> None:
    config = preset("quick")
    text = "\n\n".join(words(60, f"p{n}w") + "." for n in range(8))
    context = words(1_000, "quoted")
    demo = Demonstration(text=text, prompt="Write an email about: Plans", context=context, context_sender="Bob")
    training = TrainingSet.of_demonstrations(tokenizer, [demo], config)
    assert len(training.examples) > 1
    for example in training.examples:
        prompt = tokenizer.decode(example.prompt_ids)
        assert "Answer this email from Bob:" in prompt and "quoted999" in prompt and "quoted0 " not in prompt
        assert example.encoded.length <= config.max_length
    message = nearest_tokens(tokenizer, context, CONTEXT_TOKENS, from_start=False)
    assert len(tokenizer(message, add_special_tokens=False)["input_ids"]) <= CONTEXT_TOKENS + 2  # the "… " mark


def test_a_profile_saved_before_replies_loads_with_no_message(tmp_path) -> None:
    from ditto_desk.core.profiles.store import ProfileStore

    store = ProfileStore(tmp_path / "profiles")
    profile = store.create("old")
    saved = {"text": "An old text of mine, from before replies.", "prompt": "Write a text.", "source": "pasted"}
    (profile.path / "demonstrations.json").write_text(json.dumps([{**saved, "id": "abc123"}]))  # as saved then
    [demo] = store.load("old").demonstrations
    assert (demo.text, demo.prompt, demo.context, demo.context_sender, demo.context_below) == (
        saved["text"],
        "Write a text.",
        "",
        "",
        False,
    )
    store.load("old").save_demonstrations([demo, Demonstration("A reply of mine, to Bob.", context="Hi?")])
    assert [d.context for d in store.load("old").demonstrations] == ["", "Hi?"]
