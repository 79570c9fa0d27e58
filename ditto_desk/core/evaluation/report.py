"""Judging the generations and writing the results: a Markdown table, a JSON file with every number
and every text, and a bar plot of the win rates.

The judge's accuracy on the authors' real held-out texts comes first: when it is not clearly above
chance (one-sided binomial test, p < 0.05), the verdicts on generations mean nothing and the report
says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ditto_desk.core.atomic import atomic_write_json, atomic_write_text
from ditto_desk.core.evaluation.corpus import AuthorSplit
from ditto_desk.core.evaluation.judge import StyleJudge
from ditto_desk.core.evaluation.methods import METHODS
from ditto_desk.core.evaluation.readability import for_the_judge, readability
from ditto_desk.core.evaluation.relevance import relevance
from ditto_desk.core.evaluation.store import ResultStore
from ditto_desk.core.evaluation.winrate import (
    average_win_rates,
    binomial_p_above_chance,
    head_to_head,
    mean_and_se,
    win_matrix,
)
from ditto_desk.core.progress import Phase
from ditto_desk.core.writing.length import EASE_RATE, FLOOR, MAX_NEW_TOKENS, MIN_NEW_TOKENS, ROOM

SIGNIFICANCE = 0.05
JUDGES = ("plain", "masked")


@dataclass
class EvalReport:
    data: dict[str, Any]
    markdown: str = ""

    @property
    def judge_is_meaningful(self) -> bool:
        return bool(self.data.get("judge", {}).get("plain", {}).get("meaningful"))


def judge_check(judge: StyleJudge, texts: Sequence[str], authors: Sequence[str]) -> dict[str, Any]:
    """Attribution of the real held-out texts: is the judge clearly better than chance?"""
    predicted = judge.predict(texts)
    correct = sum(p == a for p, a in zip(predicted, authors, strict=True))
    chance = 1 / len(judge.authors)
    p_value = binomial_p_above_chance(correct, len(texts), chance)
    return {
        "correct": correct,
        "texts": len(texts),
        "accuracy": correct / len(texts) if texts else float("nan"),
        "chance": chance,
        "p_value": p_value,
        "meaningful": bool(texts) and correct / len(texts) > chance and p_value < SIGNIFICANCE,
    }


def build_report(
    setup: Mapping[str, Any],
    splits: Sequence[AuthorSplit],
    store: ResultStore,
    plans_keys: Mapping[str, Mapping[str, str]],
    trainings: ResultStore | None = None,
    messages: Mapping[str, Sequence[str]] | None = None,
) -> EvalReport:
    """Judge every cell in ``store`` and render the report; ``setup`` describes the run (the runner's, as plain data:
    the report knows nothing of the runner). The training logs are read from ``trainings`` (default: ``store``).
    ``messages`` gives, per author, the message each held-out text answers ("" for none), whether or not the
    methods were asked with it."""
    trainings = trainings or store
    demo_texts = [for_the_judge(d.text) for s in splits for d in s.demonstrations]
    demo_authors = [s.author for s in splits for _ in s.demonstrations]
    held_texts = [for_the_judge(d.text) for s in splits for d in s.held_out]
    held_authors = [s.author for s in splits for _ in s.held_out]
    judges = {name: StyleJudge(masked=name == "masked").fit(demo_texts, demo_authors) for name in JUDGES}
    data: dict[str, Any] = {
        "setup": dict(setup),
        "judge": {name: judge_check(j, held_texts, held_authors) for name, j in judges.items()},
        "authors": {},
    }
    # scores[judge][method] = per prompt (all authors in turn), the true author's probability per sample
    scores: dict[str, dict[str, list[list[float]]]] = {j: {m: [] for m in METHODS} for j in JUDGES}
    for split in splits:
        per_method: dict[str, Any] = {}
        for method in METHODS:
            cell = store.load_cell(split.author, method, plans_keys[split.author][method])
            if cell is None:
                raise RuntimeError(f"missing result for {split.author} / {method}")
            per_method[method] = _judge_cell(cell, split.author, judges, scores)
        data["authors"][split.author] = {
            "demonstrations": [{"source": d.source, "prompt": d.prompt} for d in split.demonstrations],
            "held_out": [{"source": d.source, "prompt": d.prompt, "text": d.text} for d in split.held_out],
            "methods": per_method,
            "training": _training_summary(trainings.training_log(split.author)),
        }
    data["summary"] = _summary(data["authors"], scores)
    data["readability"] = {
        "real texts": readability([d.text for s in splits for d in s.held_out]),
        **{m: data["summary"][m]["readability"] for m in METHODS},
    }
    if messages and any(m.strip() for per_author in messages.values() for m in per_author):
        data["answers_the_message"] = _answers_the_message(messages, data["authors"])
    data["win_matrix"] = {j: win_matrix(scores[j]) for j in JUDGES}
    data["ditto_over_sft"] = {j: head_to_head(scores[j], "ditto", "sft") for j in JUDGES}
    report = EvalReport(data)
    report.markdown = render_markdown(data)
    return report


def _judge_cell(
    cell: dict[str, Any], author: str, judges: Mapping[str, StyleJudge], scores: dict[str, dict[str, list[list[float]]]]
) -> dict[str, Any]:
    method = cell["method"]
    generations: list[list[str]] = cell["generations"]
    flat = [for_the_judge(t) for per_prompt in generations for t in per_prompt]
    n = len(generations[0]) if generations else 0
    judged: dict[str, Any] = {}
    for name, judge in judges.items():
        probs = judge.probabilities(flat)
        column = judge.authors.index(author)
        true_p = [float(row[column]) for row in probs]
        predicted = [judge.authors[int(i)] for i in probs.argmax(axis=1)]
        per_prompt = [true_p[i * n : (i + 1) * n] for i in range(len(generations))]
        scores[name][method].extend(per_prompt)
        hits = [[p == author for p in predicted[i * n : (i + 1) * n]] for i in range(len(generations))]
        judged[name] = {
            "p_true_author": per_prompt,
            "predicted": [predicted[i * n : (i + 1) * n] for i in range(len(generations))],
            "hits": hits,
        }
    return {
        **{k: v for k, v in cell.items() if k not in ("fingerprint", "author", "method")},
        "judged": judged,
        "loglik_per_token": _per_token(cell["loglik"]),
    }


def _answers_the_message(messages: Mapping[str, Sequence[str]], authors: Mapping[str, Any]) -> dict[str, Any]:
    """relevance.py for the authors' real replies and each method's drafts, over every held-out reply's message."""
    replies = [(author, i, m) for author, per_author in messages.items() for i, m in enumerate(per_author) if m.strip()]
    asked = [m for _, _, m in replies]
    real = [authors[author]["held_out"][i]["text"] for author, i, _ in replies]
    rows = {"real replies": relevance(real, range(len(replies)), asked).to_json()}
    for method in METHODS:
        drafts = [
            (draft, own)
            for own, (author, i, _) in enumerate(replies)
            for draft in authors[author]["methods"][method]["generations"][i]
        ]
        rows[method] = relevance([d for d, _ in drafts], [o for _, o in drafts], asked).to_json()
    return rows


def _per_token(scored: Sequence[Mapping[str, float]]) -> float:
    """Pooled mean log-likelihood per token of scored texts ({"sum", "tokens"} each)."""
    return sum(e["sum"] for e in scored) / max(sum(e["tokens"] for e in scored), 1)


def _summary(authors: Mapping[str, Any], scores: Mapping[str, Mapping[str, list[list[float]]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    wins = {j: average_win_rates(scores[j]) for j in JUDGES}
    for method in METHODS:
        row: dict[str, Any] = {}
        for j in JUDGES:
            # Attribution per prompt (share of its samples given to the right author), then over prompts.
            per_prompt = [sum(h) / len(h) for a in authors.values() for h in a["methods"][method]["judged"][j]["hits"]]
            row[f"attribution_{j}"], row[f"attribution_{j}_se"] = mean_and_se(per_prompt)
            row[f"win_rate_{j}"], row[f"win_rate_{j}_se"] = wins[j][method]
            row[f"p_true_author_{j}"] = mean_and_se(
                [sum(p) / len(p) for a in authors.values() for p in a["methods"][method]["judged"][j]["p_true_author"]]
            )[0]
        cells = [a["methods"][method] for a in authors.values()]
        row["loglik_per_token"] = _per_token([e for c in cells for e in c["loglik"]])
        drafts = [t for c in cells for per_prompt in c["generations"] for t in per_prompt]
        ended = [e for c in cells for per_prompt in c["ended"] for e in per_prompt]
        row["readability"] = readability(drafts, ended) | {
            "fluency": _per_token([e for c in cells for e in c["fluency"]])
        }
        row["prompts"] = sum(len(c["generations"]) for c in cells)
        row["texts"] = sum(len(g) for c in cells for g in c["generations"])
        summary[method] = row
    return summary


def _training_summary(log: dict[str, Any] | None) -> dict[str, Any] | None:
    if log is None:
        return None
    dpo = [e for e in log.get("log", []) if e.get("phase") == Phase.DPO]
    sft = [e for e in log.get("log", []) if e.get("phase") == Phase.SFT]
    return {
        "seconds": log.get("seconds"),
        "phase_seconds": log.get("phase_seconds"),
        "sft_losses": [e.get("loss") for e in sft],
        "dpo_losses": [e.get("loss") for e in dpo],
        "dpo_reward_margins": [e.get("reward_margin") for e in dpo],
        "dpo_reward_accuracies": [e.get("reward_accuracy") for e in dpo],
        "samples_first_demo": log.get("samples_first_demo"),
    }


def _pct(value: float, se: float | None = None) -> str:
    text = f"{100 * value:.1f}"
    return f"{text} ± {100 * se:.1f}" if se is not None else text


def render_markdown(data: Mapping[str, Any]) -> str:
    setup, judge, summary = data["setup"], data["judge"], data["summary"]
    lines = [
        "# DITTO evaluation",
        "",
        f"Corpus `{setup['corpus']}`: {len(setup['authors'])} authors ({', '.join(setup['authors'])}), "
        f"{setup['k']} demonstrations each, the rest held out; preset `{setup['preset']}`"
        + (f" with {setup['overrides']}" if setup["overrides"] else "")
        + f"; {setup['samples_per_prompt']} samples per held-out prompt; seed {setup['seed']}.",
        "",
        "## The judge on the authors' real held-out texts",
        "",
    ]
    for name in JUDGES:
        j = judge[name]
        verdict = "clearly above chance" if j["meaningful"] else "NOT clearly above chance"
        lines.append(
            f"- {name} judge: {j['correct']}/{j['texts']} = {_pct(j['accuracy'])}% "
            f"(chance {_pct(j['chance'])}%, one-sided binomial p = {j['p_value']:.3g}): {verdict}."
        )
    lines.append("")
    if not judge["plain"]["meaningful"]:
        lines += ["**The judge cannot tell these authors apart on real text: the table below is NOT meaningful.**", ""]
    elif not judge["masked"]["meaningful"]:
        lines += ["**The topic-masked judge is not above chance here: its columns are NOT meaningful.**", ""]
    lines += [
        "## Methods",
        "",
        "Attribution: share of generations the judge gives to the right author. Win rate: average pairwise "
        "win rate against the other methods (higher true-author probability wins, ties half). ± one standard "
        "error over prompts. Log-lik: mean per-token log-likelihood of the held-out texts.",
        "",
        "| method | attribution % | attribution % (masked) | win rate % | win rate % (masked) | log-lik/token |",
        "|---|---|---|---|---|---|",
    ]
    for method, row in summary.items():
        lines.append(
            f"| {method} | {_pct(row['attribution_plain'], row['attribution_plain_se'])} "
            f"| {_pct(row['attribution_masked'], row['attribution_masked_se'])} "
            f"| {_pct(row['win_rate_plain'], row['win_rate_plain_se'])} "
            f"| {_pct(row['win_rate_masked'], row['win_rate_masked_se'])} "
            f"| {row['loglik_per_token']:.3f} |"
        )
    first = next(iter(summary.values()))
    lines += ["", f"{first['prompts']} held-out prompts, {first['texts']} generations per method.", ""]
    (plain, plain_se), (masked, masked_se) = (data["ditto_over_sft"][j] for j in JUDGES)
    lines += [
        f"DITTO against SFT alone (what the DPO phase adds; 50 % is a tie): {_pct(plain, plain_se)} % plain, "
        f"{_pct(masked, masked_se)} % masked.",
        "",
    ]
    lines += _readability_section(data["readability"])
    if "answers_the_message" in data:
        lines += _relevance_section(data["answers_the_message"], bool(data["setup"].get("replies")))
    lines += ["## Per author (attribution % plain / masked, log-lik/token)", ""]
    lines += ["| author | " + " | ".join(METHODS) + " |", "|---" * (len(METHODS) + 1) + "|"]
    for author, a in data["authors"].items():
        cells = []
        for method in METHODS:
            m = a["methods"][method]
            plain = [x for h in m["judged"]["plain"]["hits"] for x in h]
            masked = [x for h in m["judged"]["masked"]["hits"] for x in h]
            cells.append(
                f"{_pct(sum(plain) / len(plain))} / {_pct(sum(masked) / len(masked))}, {m['loglik_per_token']:.2f}"
            )
        lines.append(f"| {author} | " + " | ".join(cells) + " |")
    d = setup["decoding"]
    lines += [
        "",
        f"Decoding, the same for every method: temperature {d['temperature']}, top-p {d['top_p']}, repetition "
        f"penalty {d['repetition_penalty']} (on the draft's own tokens), and as Compose writes: at least {FLOOR:g}× "
        f"the tokens of the author's shortest demonstration, at most {ROOM:g}× those of the longest (between "
        f"{MIN_NEW_TOKENS} and {MAX_NEW_TOKENS}"
        + (f", and at most {d['max_new_tokens']}" if d.get("max_new_tokens") else "")
        + f"), the end of text eased in past the median ({EASE_RATE:g}× a token). Few-shot prompts hold the "
        f"demonstrations, cut to fit {setup['few_shot_budget']} tokens.",
        "",
    ]
    lines += _drafts_section(data["authors"])
    return "\n".join(lines)


def _readability_section(rows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = [
        "## What a reader sees",
        "",
        "Ended: share of drafts that stopped on their own (EOS) before the length cap; cleanly: and at a place "
        "that reads like an end (a sentence's close, or a short last line such as a sign-off). Junk: share of texts "
        "with symbol runs, markup, mail-header fragments or placeholder brackets. Symbols: mean share of odd "
        "characters. Distinct 2-grams: unique word pairs / all (low means repetition). Fluency: mean per-token "
        "log-likelihood of the drafts under the base model. The authors' real held-out texts come first.",
        "",
        "| texts | ended % | ended cleanly % | junk % | symbols % | distinct 2-grams | words | fluency |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        ended = "–" if r.get("ended_share") is None else _pct(r["ended_share"])
        fluency = f"{r['fluency']:.3f}" if r.get("fluency") is not None else "–"
        clean = _pct(r["clean_end_share"]) if "clean_end_share" in r else "–"  # older results lack it
        lines.append(
            f"| {name} | {ended} | {clean} | {_pct(r['junk_share'])} | {_pct(r['symbol_share'])} "
            f"| {r['distinct_bigrams']:.3f} | {r['words']:.0f} | {fluency} |"
        )
    return [*lines, ""]


def _relevance_section(rows: Mapping[str, Mapping[str, Any]], asked_with_message: bool) -> list[str]:
    messages = next(iter(rows.values()))["messages"]
    asked = (
        "Each method was asked with the message (--replies)."
        if asked_with_message
        else "The methods were asked without the message (the requests of texts that answer none, as without "
        "--replies): what a draft can answer then comes from its subject alone."
    )
    lines = [
        "## Does the draft answer the message",
        "",
        f"A text answers its message when, of the {messages} held-out replies' messages, its own is the most similar "
        f"to it (TF-IDF cosine; chance {_pct(1 / max(messages, 1))} %). The authors' real replies come first. {asked}",
        "",
        "| texts | answers the message % | mean reciprocal rank | texts |",
        "|---|---|---|---|",
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | {_pct(r['answers'])} | {r['reciprocal_rank']:.3f} | {r['texts']} |")
    return [*lines, ""]


def _drafts_section(authors: Mapping[str, Any], chars: int = 500) -> list[str]:
    """For each author's first held-out prompt: the real text, then each method's first draft."""
    lines = ["## Drafts beside the real text", ""]
    for author, a in authors.items():
        held = a["held_out"][0]
        lines += [f"### {author}: {held['prompt']}", "", f"**The author's real text:** {_excerpt(held['text'], chars)}"]
        for method in METHODS:
            draft = a["methods"][method]["generations"][0][0]
            lines += ["", f"**{method}:** {_excerpt(draft, chars)}"]
        lines.append("")
    return lines


def _excerpt(text: str, chars: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= chars else flat[:chars].rsplit(" ", 1)[0] + " …"


def write_report(report: EvalReport, out: Path) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "report.md", "json": out / "results.json", "plot": out / "win_rates.png"}
    atomic_write_text(paths["markdown"], report.markdown)
    atomic_write_json(paths["json"], report.data)
    plot_win_rates(report.data["summary"], paths["plot"], meaningful=report.judge_is_meaningful)
    return paths


def plot_win_rates(summary: Mapping[str, Mapping[str, float]], path: Path, meaningful: bool = True) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    methods = list(summary)
    x = range(len(methods))
    width = 0.38
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=120)
    for offset, name in ((-width / 2, "plain"), (width / 2, "masked")):
        values = [100 * summary[m][f"win_rate_{name}"] for m in methods]
        errors = [100 * summary[m][f"win_rate_{name}_se"] for m in methods]
        ax.bar([i + offset for i in x], values, width, yerr=errors, capsize=3, label=f"{name} judge")
    ax.axhline(50, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(list(x), methods)
    ax.set_ylim(0, 100)
    ax.set_ylabel("average win rate (%)")
    title = "Win rate against the other methods"
    ax.set_title(title if meaningful else title + " (judge NOT above chance)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
