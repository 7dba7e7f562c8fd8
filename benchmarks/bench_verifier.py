"""The grounding verifier against the labelled plan-sentence corpus (tests/prompts/verifier_eval/).

    .venv/bin/python benchmarks/bench_verifier.py [--show-misses]

Every line of every ``corpus_*.jsonl`` (the blind writer's and the team's) is verified against the frozen demo
fact bundle ``demo_facts.json`` through the library verifier, the way each front end calls it:

- ``tool``: what the MCP tool ``verify_plan`` runs for a draft (``tools.verify_plan.verify_plan``'s verifier call);
- ``pipeline``: what ``lifecycle plan`` runs on a model's answer (``prompts.plan.verify_answer``).
  (The baseline of the verifier before the claim model passed the rendered ``lifecycle_map`` prompt here, whose
  numbers were exempt; see docs/verifier.md.)

The positive class is *flagged* (the verifier does not pass the text). For each split, language and category the
script prints precision and recall of flagged; for a category whose lines are all ``ok`` it prints the share left
unflagged (specificity), for an all-``flagged`` category the share flagged (recall) — the category score.
The aims (issue #10) are on the held-out split, over lines whose claim kind is ``current``: precision ≥ 0.97 and
recall ≥ 0.97, and every category score ≥ 0.90.

Split: a line is held out when the first 8 hex digits of SHA-256(id) modulo 100 are below 40 — stable, independent
of the verifier and of the line's content, and fixed before any tuning. Held-out lines are never printed
(``--show-misses`` lists dev misses only), so nobody tunes on them. Writes ``benchmarks/results/verifier.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import RESULTS, ROOT, machine_info

EVAL_DIR = ROOT / "tests" / "prompts" / "verifier_eval"
HELDOUT_PERCENT = 40
AIM_PRECISION = AIM_RECALL = 0.97
AIM_CATEGORY = 0.90


@dataclass(frozen=True)
class Line:
    """One labelled corpus line."""

    id: str
    author: str
    lang: str
    text: str
    flagged: bool  # the truth: label == "flagged"
    category: str
    kind: str

    @property
    def split(self) -> str:
        return split_of(self.id)


def split_of(line_id: str) -> str:
    """``heldout`` when int(sha256(id)[:8], 16) % 100 < HELDOUT_PERCENT, else ``dev``."""
    bucket = int(hashlib.sha256(line_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "heldout" if bucket < HELDOUT_PERCENT else "dev"


def load_corpus(directory: Path = EVAL_DIR) -> list[Line]:
    """Every line of every corpus_*.jsonl in ``directory`` (ids must be unique across files)."""
    lines: list[Line] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("corpus_*.jsonl")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            item = json.loads(raw)
            if item["id"] in seen:
                raise SystemExit(f"{path.name}:{number}: duplicate id {item['id']}")
            seen.add(item["id"])
            lines.append(Line(item["id"], item.get("author", path.stem.removeprefix("corpus_")), item["lang"], item["text"],
                              item["label"] == "flagged", item["category"], item.get("kind", "none")))
    return lines


def demo_bundle() -> Any:
    """The frozen demo fact bundle as a ``FactBundle``."""
    from lifecycle.facts import Fact, FactBundle

    data = json.loads((EVAL_DIR / "demo_facts.json").read_text(encoding="utf-8"))
    facts = tuple(Fact(**{**f, "sections": tuple(f.get("sections", ()))}) for f in data["facts"])
    return FactBundle(data["as_of"], data["period"], data["filters"], facts)


def verifiers(bundle: Any) -> dict[str, Callable[[str, str], bool]]:
    """mode -> (text, language) -> flagged, calling the verifier exactly as each front end does."""
    from prompts.plan import verify_answer
    from prompts.verify import verify_draft

    def tool(text: str, language: str) -> bool:  # tools.verify_plan.verify_plan
        return not verify_draft(text, bundle, language).ok

    def pipeline(text: str, language: str) -> bool:  # prompts.plan._model_target
        return not verify_answer(text, bundle, language).ok

    return {"tool": tool, "pipeline": pipeline}


def scores(pairs: Iterable[tuple[bool, bool]]) -> dict[str, Any]:
    """Counts and precision/recall of the flagged class over (truth, flagged) pairs (None when undefined)."""
    c = Counter((truth, flagged) for truth, flagged in pairs)
    tp, fp, fn, tn = c[(True, True)], c[(False, True)], c[(True, False)], c[(False, False)]
    n = tp + fp + fn + tn
    return {"n": n, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "accuracy": round((tp + tn) / n, 4) if n else None}


def category_score(s: dict[str, Any]) -> float | None:
    """Recall for flagged lines plus specificity for ok lines: the share of the category judged right."""
    return s["accuracy"]


def evaluate(lines: list[Line], verdict: Callable[[str, str], bool]) -> tuple[dict[str, Any], list[tuple[Line, bool]]]:
    """Scores per split × (all, current claims, language, category, author)."""
    judged = [(line, verdict(line.text, line.lang)) for line in lines]
    out: dict[str, Any] = {}
    for split in ("dev", "heldout", "all"):
        chosen = [(l, f) for l, f in judged if split == "all" or l.split == split]
        groups: dict[str, dict[str, list[tuple[bool, bool]]]] = defaultdict(lambda: defaultdict(list))
        for line, flagged in chosen:
            pair = (line.flagged, flagged)
            groups["all"]["all"].append(pair)
            if line.kind == "current":
                groups["all"]["current"].append(pair)
            groups["language"][line.lang].append(pair)
            groups["category"][line.category].append(pair)
            groups["author"][line.author].append(pair)
            groups["language_current"][line.lang].append(pair) if line.kind == "current" else None
        out[split] = {group: {key: scores(pairs) for key, pairs in sorted(members.items())} for group, members in groups.items()}
        cats = out[split].get("category", {})
        current = out[split]["all"].get("current", scores([]))
        out[split]["aims"] = {
            "current_precision": current["precision"], "current_recall": current["recall"],
            "worst_category": min(((category_score(s), k) for k, s in cats.items()), default=(None, None)),
            "met": bool(current["precision"] is not None and current["precision"] >= AIM_PRECISION
                        and current["recall"] is not None and current["recall"] >= AIM_RECALL
                        and all((category_score(s) or 0) >= AIM_CATEGORY for s in cats.values())),
        }
    return out, judged


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def table(results: dict[str, Any], mode: str) -> str:
    """Markdown tables: per language and per category, dev and held-out side by side."""
    dev, held = results["dev"], results["heldout"]
    rows = [f"#### {mode}", "", "| slice | dev n | dev precision | dev recall | held-out n | held-out precision | held-out recall |",
            "|---|---|---|---|---|---|---|"]
    for group, key, label in [("all", "all", "all lines"), ("all", "current", "current-value claims")] + \
            [("language", k, f"language {k}") for k in ("en", "ru", "zh")] + \
            [("language_current", k, f"current-value, {k}") for k in ("en", "ru", "zh")] + \
            [("author", k, f"author {k}") for k in sorted(set(dev.get("author", {})) | set(held.get("author", {})))]:
        d, h = dev.get(group, {}).get(key, scores([])), held.get(group, {}).get(key, scores([]))
        rows.append(f"| {label} | {d['n']} | {_fmt(d['precision'])} | {_fmt(d['recall'])} | {h['n']} | {_fmt(h['precision'])} | {_fmt(h['recall'])} |")
    rows += ["", "| category | dev n | dev score | held-out n | held-out score |", "|---|---|---|---|---|"]
    for key in sorted(set(dev.get("category", {})) | set(held.get("category", {}))):
        d, h = dev["category"].get(key, scores([])), held["category"].get(key, scores([]))
        rows.append(f"| {key} | {d['n']} | {_fmt(category_score(d))} | {h['n']} | {_fmt(category_score(h))} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-misses", action="store_true", help="List the dev lines judged wrong (never held-out ones).")
    parser.add_argument("--out", type=Path, default=RESULTS / "verifier.json")
    args = parser.parse_args(argv)
    lines = load_corpus()
    bundle = demo_bundle()
    report: dict[str, Any] = {"machine": machine_info(), "corpus": {
        "lines": len(lines), "by_author": dict(Counter(l.author for l in lines)),
        "by_language": dict(Counter(l.lang for l in lines)), "by_split": dict(Counter(l.split for l in lines)),
        "flagged": sum(l.flagged for l in lines), "heldout_rule": f"int(sha256(id)[:8], 16) % 100 < {HELDOUT_PERCENT}"},
        "modes": {}}
    for mode, verdict in verifiers(bundle).items():
        results, judged = evaluate(lines, verdict)
        report["modes"][mode] = results
        print(table(results, mode))
        print(f"\n{mode}: held-out aims met: {results['heldout']['aims']['met']} {results['heldout']['aims']}\n")
        if args.show_misses:
            for line, flagged in judged:
                if line.split == "dev" and flagged != line.flagged:
                    print(f"MISS {mode} {line.id} [{line.category}] truth={'flagged' if line.flagged else 'ok'}: {line.text}")
    agree = None
    if {"tool", "pipeline"} <= set(report["modes"]):
        agree = report["modes"]["tool"]["all"]["all"]["all"] == report["modes"]["pipeline"]["all"]["all"]["all"]
    report["modes_agree_on_counts"] = agree
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
