"""Mail as real clients write it: top-posted, bottom-posted, inline and forwarded replies,
with and without signatures, from Gmail, Outlook, Apple Mail, Thunderbird and mutt. The importer keeps the
author's own paragraphs and drops quotes, attributions, signatures, client footers and forwarded originals.

The messages are written here in the shapes those clients produce (headers, MIME structure, transfer
encodings, the HTML they generate), with the author's words in MINE and everyone else's in THEIRS."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest

from ditto_desk.core.importing.files import import_paths
from ditto_desk.core.texts.demonstration import Demonstration

MINE_1 = "Yes, Thursday works for the whole team, and I will tell the client this afternoon."
MINE_2 = "The docs are done too; I read them through twice last night and fixed the links."
MINE_3 = "Let us keep the retro short this time, thirty minutes at most, and skip the slides."
THEIRS_1 = "Can we still ship on Thursday, or does the migration push us into next week?"
THEIRS_2 = "And are the release notes and the upgrade guide ready for review?"
THEIRS_3 = "Also, should we plan the retro for Friday morning?"


def message(plain: str | None = None, html: str | None = None, **headers: str) -> bytes:
    """An email as a client sends it: plain, HTML, or both as multipart/alternative (quoted-printable)."""
    mail = EmailMessage()
    mail["From"] = "Ann Smith <ann@example.com>"
    mail["To"] = "Bob Jones <bob@example.com>"
    mail["Subject"] = "Re: Release on Thursday"
    mail["Date"] = "Tue, 04 Mar 2025 10:41:07 +0000"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    if plain is not None:
        mail.set_content(plain, cte="quoted-printable")
        if html is not None:
            mail.add_alternative(html, subtype="html", cte="quoted-printable")
    else:
        mail.set_content(html or "", subtype="html", cte="quoted-printable")
    return mail.as_bytes(policy=SMTP)


def imported_text(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "mail.eml"
    path.write_bytes(data)
    result = import_paths([path])
    assert result.refused == [], result.refused[0].reason
    return result.demonstrations[0].text


GMAIL_ATTRIBUTION = "On Tue, Mar 4, 2025 at 9:12 AM Bob Jones <\nbob@example.com> wrote:"
GMAIL_ATTRIBUTION_HTML = (
    '<div dir="ltr" class="gmail_attr">On Tue, Mar 4, 2025 at 9:12 AM Bob Jones &lt;<a href="mailto:bob@example.com">'
    "bob@example.com</a>&gt; wrote:<br></div>"
)
GMAIL_QUOTE = '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204)">'

SHAPES: dict[str, tuple[bytes, str]] = {
    # Gmail, answering inline: the author's paragraphs under each quoted one, in the plain part and the HTML.
    "gmail inline, plain and HTML": (
        message(
            f"{GMAIL_ATTRIBUTION}\n\n> {THEIRS_1}\n>\n\n{MINE_1}\n\n> {THEIRS_2}\n>\n\n{MINE_2}\n\n"
            f"-- \nAnn Smith\nRelease Manager\n",
            f'<div dir="ltr"><div class="gmail_quote">{GMAIL_ATTRIBUTION_HTML}{GMAIL_QUOTE}<div dir="ltr">'
            f"{THEIRS_1}</div></blockquote><div><br></div><div>{MINE_1}</div><div><br></div>{GMAIL_QUOTE}"
            f"<div>{THEIRS_2}</div></blockquote><div><br></div><div>{MINE_2}</div></div></div>",
            X_Mailer="Gmail",
        ),
        f"{MINE_1}\n\n{MINE_2}",
    ),
    # The same reply as an HTML-only message (as Gmail's "rich text" mode sends to some lists): the author's
    # paragraphs sit inside the gmail_quote div, between the blockquotes. It was refused as "nothing left".
    "gmail inline, HTML only": (
        message(
            html=f'<div dir="ltr"><div class="gmail_quote">{GMAIL_ATTRIBUTION_HTML}{GMAIL_QUOTE}'
            f"<div>{THEIRS_1}</div></blockquote><div>{MINE_1}</div>{GMAIL_QUOTE}<div>{THEIRS_2}<br></div>"
            f"</blockquote><div>{MINE_2}</div>{GMAIL_QUOTE}<div>{THEIRS_3}</div></blockquote><div>{MINE_3}</div>"
            '<div><br></div><div class="gmail_signature" data-smartmail="gmail_signature">Ann Smith<br>Release '
            "Manager</div></div></div>"
        ),
        f"{MINE_1}\n\n{MINE_2}\n\n{MINE_3}",
    ),
    "gmail top-posted, HTML only, signature by class": (
        message(
            html=f'<div dir="ltr"><div>{MINE_1}</div><div><br></div><div>{MINE_2}</div><br clear="all"><div><br>'
            '</div><span class="gmail_signature_prefix">-- </span><br><div dir="ltr" class="gmail_signature">Ann '
            f'Smith</div></div><br><div class="gmail_quote">{GMAIL_ATTRIBUTION_HTML}{GMAIL_QUOTE}<div dir="ltr">'
            f"{THEIRS_1}</div></blockquote></div>"
        ),
        f"{MINE_1}\n\n{MINE_2}",
    ),
    "gmail forward": (
        message(
            f"{MINE_3}\n\n---------- Forwarded message ---------\nFrom: Bob Jones <bob@example.com>\nDate: Tue, "
            f"Mar 4, 2025 at 9:12 AM\nSubject: Retro\nTo: Ann Smith <ann@example.com>\n\n\n{THEIRS_3}\n"
        ),
        MINE_3,
    ),
    "gmail in German, top-posted": (
        message(
            f"{MINE_1}\n\nAm Di., 4. März 2025 um 09:12 Uhr schrieb Bob Jones <bob@example.com>:\n\n> {THEIRS_1}\n"
        ),
        MINE_1,
    ),
    "gmail in French, top-posted": (
        message(f"{MINE_1}\n\nLe mar. 4 mars 2025 à 09:12, Bob Jones <bob@example.com> a écrit :\n\n> {THEIRS_1}\n"),
        MINE_1,
    ),
    # Outlook: top-posted above a header block and the original, unquoted.
    "outlook desktop, rule and header block": (
        message(
            f"{MINE_1}\n\nAnn\n\n________________________________\nFrom: Bob Jones <bob@example.com>\nSent: "
            f"Tuesday, March 4, 2025 9:12 AM\nTo: Ann Smith <ann@example.com>\nSubject: Release\n\n{THEIRS_1}\n",
            X_Mailer="Microsoft Outlook 16.0",
        ),
        f"{MINE_1}\n\nAnn",
    ),
    "outlook, header block without a rule": (
        message(
            f"{MINE_1}\n\nAnn\n\nFrom: Bob Jones <bob@example.com>\nSent: Tuesday, March 4, 2025 9:12 AM\nTo: Ann "
            f"Smith <ann@example.com>\nCc: Team <team@example.com>\nSubject: RE: Release\n\n{THEIRS_1}\n"
        ),
        f"{MINE_1}\n\nAnn",
    ),
    "outlook, original message": (
        message(f"{MINE_2}\n\n-----Original Message-----\nFrom: Bob Jones\nSent: Tuesday\n\n{THEIRS_2}\n"),
        MINE_2,
    ),
    "outlook web, HTML only": (
        message(
            html=f'<html><body><div style="font-family:Aptos"><p>{MINE_1}</p><p>Ann</p></div><div id="appendonsend">'
            '</div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"'
            ' style="font-size:11pt"><b>From:</b> Bob Jones &lt;bob@example.com&gt;<br><b>Sent:</b> Tuesday, March '
            "4, 2025 9:12 AM<br><b>To:</b> Ann Smith &lt;ann@example.com&gt;<br><b>Subject:</b> Release</font><div>"
            f"&nbsp;</div></div><div><p>{THEIRS_1}</p></div></body></html>"
        ),
        f"{MINE_1}\n\nAnn",
    ),
    "outlook for iOS footer": (
        message(f"{MINE_1}\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"),
        MINE_1,
    ),
    # Apple Mail: the attribution inside the quote, replies below it, "Sent from my iPhone".
    "apple mail, bottom-posted from the phone": (
        message(
            f"> On 4 Mar 2025, at 09:12, Bob Jones <bob@example.com> wrote:\n> \n> {THEIRS_1}\n\n{MINE_1}\n\n"
            "Sent from my iPhone\n",
            X_Mailer="iPhone Mail (22D82)",
        ),
        MINE_1,
    ),
    "apple mail, inline, HTML": (
        message(
            html=f'<html><body dir="auto"><blockquote type="cite"><div>On 4 Mar 2025, at 09:12, Bob Jones &lt;bob@'
            f"example.com&gt; wrote:</div><br><div><div>{THEIRS_1}</div></div></blockquote><div>{MINE_1}</div>"
            f'<br><blockquote type="cite"><div>{THEIRS_2}</div></blockquote><div>{MINE_2}</div><br><div>Sent from '
            "my iPad</div></body></html>"
        ),
        f"{MINE_1}\n\n{MINE_2}",
    ),
    "apple mail forward": (
        message(
            f"{MINE_3}\n\nBegin forwarded message:\n\nFrom: Bob Jones <bob@example.com>\nSubject: Retro\nDate: 4 "
            f"March 2025 at 09:12:00 GMT\nTo: Ann Smith <ann@example.com>\n\n{THEIRS_3}\n"
        ),
        MINE_3,
    ),
    # Thunderbird: "On <date>, <name> wrote:", format=flowed plain text, moz-cite-prefix and moz-signature HTML.
    "thunderbird inline with signature": (
        message(
            f"On 04/03/2025 09:12, Bob Jones wrote:\n> {THEIRS_1}\n\n{MINE_1}\n\n> {THEIRS_2}\n\n{MINE_2}\n\n"
            "-- \nAnn Smith\n",
            User_Agent="Mozilla Thunderbird",
        ),
        f"{MINE_1}\n\n{MINE_2}",
    ),
    "thunderbird inline, HTML": (
        message(
            html='<html><body><div class="moz-cite-prefix">On 04/03/2025 09:12, Bob Jones wrote:<br></div>'
            f'<blockquote type="cite" cite="mid:1@example.com">{THEIRS_1}</blockquote><p>{MINE_1}</p>'
            f'<blockquote type="cite">{THEIRS_2}</blockquote><p>{MINE_2}</p><pre class="moz-signature" cols="72">'
            "-- \nAnn Smith</pre></body></html>"
        ),
        f"{MINE_1}\n\n{MINE_2}",
    ),
    "thunderbird forward": (
        message(
            f"{MINE_3}\n\n-------- Forwarded Message --------\nSubject: \tRetro\nDate: \tTue, 4 Mar 2025 09:12:00 "
            f"+0000\nFrom: \tBob Jones <bob@example.com>\n\n{THEIRS_3}\n"
        ),
        MINE_3,
    ),
    # mutt: its two attribution styles, inline replies, "-- " signature.
    "mutt inline, old attribution": (
        message(
            f"* Bob Jones <bob@example.com> [2025-03-04 09:12]:\n> {THEIRS_1}\n\n{MINE_1}\n\n> {THEIRS_2}\n\n"
            f"{MINE_2}\n\n-- \nann\n",
            User_Agent="Mutt/2.2.12 (2023-09-09)",
        ),
        f"{MINE_1}\n\n{MINE_2}",
    ),
    "mutt inline, on-wrote attribution": (
        message(
            f"On Tue, Mar 04, 2025 at 09:12:07AM +0000, Bob Jones wrote:\n> {THEIRS_1}\n{MINE_1}\n> {THEIRS_2}\n"
            f"{MINE_2}\n"
        ),
        f"{MINE_1}\n{MINE_2}",
    ),
    # Plain shapes any client makes: a plain quoted tail below the reply, and no quote at all.
    "bottom quote tail": (message(f"{MINE_1}\n\n{MINE_2}\n\n> {THEIRS_1}\n> {THEIRS_2}\n"), f"{MINE_1}\n\n{MINE_2}"),
    "no quote, signature": (message(f"{MINE_1}\n\nAnn\n\n--\nAnn Smith | +44 20 7946 0000\n"), f"{MINE_1}\n\nAnn"),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_real_client_shapes_keep_only_the_authors_words(tmp_path: Path, shape: str) -> None:
    data, expected = SHAPES[shape]
    text = imported_text(tmp_path, data)
    assert text == expected
    for theirs in (THEIRS_1, THEIRS_2, THEIRS_3):
        assert theirs not in text
    assert "wrote" not in text and "Sent from" not in text and "From:" not in text


def test_a_reply_that_is_only_a_quote_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "quote.eml"
    path.write_bytes(
        message(html=f'<div class="gmail_quote">{GMAIL_ATTRIBUTION_HTML}{GMAIL_QUOTE}{THEIRS_1}</blockquote></div>')
    )
    [refusal] = import_paths([path]).refused
    assert refusal.reason == "nothing left after removing quoted replies and the signature"


# What each shape answers: the other person's paragraphs in the order they stood, whose they are, and whether they
# stood below the answer (top-posted). Forwards answer nothing: what they pass on is not replied to.
ANSWERED: dict[str, tuple[list[str], str, bool]] = {
    "gmail inline, plain and HTML": ([THEIRS_1, THEIRS_2], "Bob Jones", False),
    "gmail inline, HTML only": ([THEIRS_1, THEIRS_2, THEIRS_3], "Bob Jones", False),
    "gmail top-posted, HTML only, signature by class": ([THEIRS_1], "Bob Jones", True),
    "gmail forward": ([], "", False),
    "gmail in German, top-posted": ([THEIRS_1], "Bob Jones", True),
    "gmail in French, top-posted": ([THEIRS_1], "Bob Jones", True),
    "outlook desktop, rule and header block": ([THEIRS_1], "Bob Jones", True),
    "outlook, header block without a rule": ([THEIRS_1], "Bob Jones", True),
    "outlook, original message": ([THEIRS_2], "Bob Jones", True),
    "outlook web, HTML only": ([THEIRS_1], "Bob Jones", True),
    "outlook for iOS footer": ([], "", False),
    "apple mail, bottom-posted from the phone": ([THEIRS_1], "Bob Jones", False),
    "apple mail, inline, HTML": ([THEIRS_1, THEIRS_2], "Bob Jones", False),
    "apple mail forward": ([], "", False),
    "thunderbird inline with signature": ([THEIRS_1, THEIRS_2], "Bob Jones", False),
    "thunderbird inline, HTML": ([THEIRS_1, THEIRS_2], "Bob Jones", False),
    "thunderbird forward": ([], "", False),
    "mutt inline, old attribution": ([THEIRS_1, THEIRS_2], "Bob Jones", False),
    "mutt inline, on-wrote attribution": ([THEIRS_1, THEIRS_2], "Bob Jones", False),
    "bottom quote tail": ([THEIRS_1, THEIRS_2], "", True),
    "no quote, signature": ([], "", False),
}


def imported(tmp_path: Path, data: bytes, name: str = "mail.eml") -> Demonstration:
    path = tmp_path / name
    path.write_bytes(data)
    result = import_paths([path])
    assert result.refused == [], result.refused[0].reason
    return result.demonstrations[0]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_real_client_shapes_keep_the_message_they_answer_apart(tmp_path: Path, shape: str) -> None:
    demo = imported(tmp_path, SHAPES[shape][0])
    pieces, sender, below = ANSWERED[shape]
    assert [piece for piece in (THEIRS_1, THEIRS_2, THEIRS_3) if piece in demo.context] == pieces
    assert [demo.context.index(piece) for piece in pieces] == sorted(demo.context.index(piece) for piece in pieces)
    assert (demo.context_sender, demo.context_below) == (sender, below)
    for mine in (MINE_1, MINE_2, MINE_3):
        assert mine not in demo.context
    assert "wrote" not in demo.context and "From:" not in demo.context and "Ann Smith" not in demo.context
    assert demo.prompt == "Write an email about: Release on Thursday"  # a reply keeps today's request


# MH and exmh, as one real author's replies read: the answered message's headers, indented, above "  | " quotes.
MH_REPLY = (
    "    Date:        Thu, 22 Aug 2002 10:04:06 -0500\n"
    "    From:        Chris Garrigues <cwg-dated-1030460647.7351a3@DeepEddy.Com>\n"
    "    Message-ID:  <1030028647.6462.TMDA@deepeddy.vircio.com>\n\n"
    "  | hmmm, I assume you're going to report this to the nmh folks?\n\n"
    "Yes, I will, sometime, after I look at the nmh sources and see what\nthey have managed to break, and why.\n\n"
    "  | And the patch?\n\n"
    "Patch follows, it is trivial, so I'd suggest including it.\n\nkre\n\n"
    "_______________________________________________\nExmh-workers mailing list\nExmh-workers@redhat.com\n"
)


def test_an_mh_reply_under_a_header_block_keeps_the_quote_and_drops_the_headers(tmp_path: Path) -> None:
    demo = imported(tmp_path, message(MH_REPLY))
    assert demo.text == (
        "Yes, I will, sometime, after I look at the nmh sources and see what\nthey have managed to break, and why."
        "\n\nPatch follows, it is trivial, so I'd suggest including it.\n\nkre"
    )
    assert demo.context == "hmmm, I assume you're going to report this to the nmh folks?\n\nAnd the patch?"
    assert (demo.context_sender, demo.context_below) == ("Chris Garrigues", False)


def test_a_pipe_is_a_quote_only_below_a_header_block(tmp_path: Path) -> None:
    text = f"{MINE_1}\n\n  | cat log | grep error\n\n{MINE_2}"
    demo = imported(tmp_path, message(text))
    assert demo.text == text and demo.context == ""


def test_deeper_quotes_and_the_answered_messages_signature_stay_out(tmp_path: Path) -> None:
    body = f"Bob wrote:\n> {THEIRS_1}\n> Carol wrote:\n> > {THEIRS_3}\n> -- \n> Bob, Release Team\n\n{MINE_1}\n"
    demo = imported(tmp_path, message(body))
    assert (demo.text, demo.context, demo.context_sender) == (MINE_1, THEIRS_1, "Bob")


def test_a_plain_text_answers_nothing(tmp_path: Path) -> None:
    demo = imported(tmp_path, f"{MINE_1}\n\n> a quoted line in a note\n".encode(), name="note.txt")
    assert demo.context == "" and "> a quoted line" in demo.text  # a text file is taken as written


def test_a_long_answered_message_keeps_the_part_nearest_the_answer(tmp_path: Path) -> None:
    far, near = "far " * 2_000, "the question right above the answer"
    demo = imported(tmp_path, message(f"Bob wrote:\n> {far}\n>\n> {near}\n\n{MINE_1}\n"))
    assert demo.context.endswith(near) and demo.context.startswith("… ") and len(demo.context) <= 4_002
    demo = imported(tmp_path, message(f"{MINE_1}\n\n-----Original Message-----\nFrom: Bob\n\n{near}\n\n{far}\n"))
    assert demo.context.startswith(near) and demo.context.endswith(" …") and demo.context_below
