"""derive_prompt: the request a pasted or imported text answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ditto_desk.core.texts.prompts import (
    FALLBACK_PROMPT,
    MAX_PROMPT_CHARS,
    as_request,
    clean_subject,
    derive_prompt,
    first_sentence,
    strip_greeting,
)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Budget for Q3", "Budget for Q3"),
        ("Re: Budget for Q3", "Budget for Q3"),
        ("RE: Fwd: re:  Budget   for Q3 ", "Budget for Q3"),
        ("Fw: Budget for Q3", "Budget for Q3"),
        ("AW: WG: Budget for Q3", "Budget for Q3"),
        ("Re[2]: Budget for Q3", "Budget for Q3"),
    ],
)
def test_subject_gives_an_email_prompt(subject: str, expected: str) -> None:
    assert clean_subject(subject) == expected
    assert derive_prompt("Any body at all.", subject=subject) == f"Write an email about: {expected}"


def test_subject_that_is_only_a_prefix_falls_back_to_the_text() -> None:
    assert derive_prompt("The build is green. Thanks.", subject="Re: ") == (
        'Write a text that starts with: "The build is green."'
    )


@pytest.mark.parametrize(
    "greeting", ["Hi team,", "Dear Ann,", "Hello all,", "hey all —", "Good morning everyone!", "Hi Ann"]
)
def test_greeting_line_is_skipped(greeting: str) -> None:
    text = f"{greeting}\n\nThe build is green again. Thanks for the patience."
    assert derive_prompt(text) == 'Write a text that starts with: "The build is green again."'


def test_greeting_on_the_same_line_as_the_first_sentence() -> None:
    assert strip_greeting("Hi Ann, thanks for the notes. More soon.") == "thanks for the notes. More soon."
    assert first_sentence("Hey — quick one: lunch is moved. Sorry!") == "quick one: lunch is moved."


def test_a_sentence_that_merely_starts_like_a_greeting_is_kept() -> None:
    text = "Hello world is the first program everyone writes. It prints two words."
    assert first_sentence(text) == "Hello world is the first program everyone writes."


def test_long_first_sentence_is_cut_to_fifteen_words_with_an_ellipsis() -> None:
    words = [f"word{i}" for i in range(30)]
    sentence = first_sentence(" ".join(words) + ".")
    assert sentence == " ".join(words[:15]) + "…"
    assert derive_prompt(" ".join(words)) == f'Write a text that starts with: "{sentence}"'


def test_abbreviations_initials_and_list_numbers_do_not_end_the_sentence() -> None:
    assert first_sentence("See the notes, e.g. page 3. Then decide.") == "See the notes, e.g. page 3."
    assert first_sentence("Ask J. Smith first. Then go.") == "Ask J. Smith first."
    assert first_sentence("1. Book the room. 2. Tell everyone.") == "1. Book the room."


def test_paragraph_break_ends_a_heading_without_punctuation() -> None:
    assert first_sentence("# Weekly notes\n\nWe shipped the thing.") == "Weekly notes"


def test_sentence_wrapped_over_lines_is_joined() -> None:
    assert first_sentence("The release\nslipped a day\nagain. Sorry.") == "The release slipped a day again."


@pytest.mark.parametrize("text", ["", "   \n\t ", "Hi team,", "...", "…"])
def test_never_empty(text: str) -> None:
    assert derive_prompt(text) == FALLBACK_PROMPT
    assert derive_prompt(text, subject="  ") == FALLBACK_PROMPT


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=400), subject=st.none() | st.text(max_size=200))
def test_any_input_gives_a_short_non_empty_prompt(text: str, subject: str | None) -> None:
    prompt = derive_prompt(text, subject=subject)
    assert isinstance(prompt, str)
    assert prompt.strip()
    assert len(prompt) <= MAX_PROMPT_CHARS + 40


def test_a_compose_request_takes_the_form_of_the_training_prompts() -> None:
    emails = ["Write an email about: Friday offsite", "Write an email about: Q3 plan"]
    posts = ['Write a text that starts with: "I run."', 'Write a text that starts with: "Rain."']
    assert (
        as_request("moving Friday's retro to Monday", emails) == "Write an email about: moving Friday's retro to Monday"
    )
    assert as_request("my week in running", posts) == "Write a text about: my week in running"
    assert as_request("An email to the team moving the retro", emails) == "Write an email to the team moving the retro"
    assert as_request("  Draft a reply to Ann  ", emails) == "Draft a reply to Ann"
    assert as_request("the offsite") == "Write an email about: the offsite"
