"""Batch plan generation: one strategy document per target, resumable, verified, with a run manifest.

Targets are the whole base, each value of a segment dimension, each lifecycle stage, or the top-N at-risk
customers. For each target the runner computes the fact bundle, renders the prompt (``prompts.render``),
and then either

- writes the offline document (no model configured: facts in the framework's structure, strategy
  sections marked as awaiting a model), or the rendered prompt and facts (``dry_run``), or
- calls the model (Chat Completions, structured output where the server supports it, or — with ``batch`` —
  the OpenAI Batch API through :class:`prompts.batch.BatchCollector`), verifies every number (``prompts.verify``), asks once for a revision when numbers are
  unverified (``strict`` fails the document instead), and writes Markdown + HTML + facts JSON/CSV.

Every file is written atomically (temp + rename) and each target's ``<key>.meta.json`` records the hash
of its inputs; a re-run skips targets whose meta matches, so a killed run loses nothing already written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from lifecycle.config import DEFAULT_CONFIG, EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.facts import Fact, FactBundle, build_facts, customer_facts, top_at_risk
from lifecycle.filters import Dimension, Filters
from lifecycle.membership import is_member
from lifecycle.sources import DataSource
from prompts.batch import BatchCollector, StatusCallback
from prompts.documents import facts_csv
from prompts.fence import clean_text, markdown_text
from prompts.files import write_file_atomically
from prompts.llm import ChatClient, Completer, LLMError, LLMSettings, revision_feedback
from prompts.render import BusinessContext, Language, PromptName, framework_stages, render_prompt
from prompts.report.charts import ReportChart
from prompts.report.document import report_html, report_markdown
from prompts.report.i18n import text as report_text
from prompts.structured import undeclared_fact_ids
from prompts.verify import VerificationReport, verify_draft


@dataclass(frozen=True)
class Target:
    """One document to produce."""

    key: str
    title: str
    prompt: PromptName
    filters: Filters = field(default_factory=Filters)
    stage: str | None = None
    subject: dict[str, object] | None = None
    customer_id: str | None = None  # per-customer targets add that customer's facts (customer.*)


@dataclass(frozen=True)
class PlanOptions:
    """How to run a plan batch."""

    out_dir: Path
    as_of: date
    language: Language = Language.EN
    context: BusinessContext = field(default_factory=BusinessContext)
    llm: LLMSettings | None = None  # None: offline documents
    dry_run: bool = False
    strict: bool = False
    concurrency: int = 4
    ids_only: bool = False
    price_in_per_mtok: float = 0.0
    price_out_per_mtok: float = 0.0
    config: EngineConfig = DEFAULT_CONFIG
    charts: bool = True
    batch: bool = False  # send the model calls as OpenAI Batch API jobs
    batch_poll_s: float = 30.0


@dataclass
class TargetOutcome:
    """What happened to one target (also its meta file's content)."""

    key: str
    title: str
    status: str  # done | offline | dry_run | skipped | failed_verification | error
    input_hash: str
    files: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    verifier: dict[str, int] | None = None
    answer_format: str | None = None  # structured | text
    error: str | None = None


def slug(text: str) -> str:
    """A file-name-safe key: ASCII letters and digits joined by "-". A label that loses characters on the way
    ("Предприятие", "企业", "a/b", "A B" vs "a-b") gets the first 8 hex digits of its SHA-256 appended, so two labels
    never share a file and no label can name a path."""
    cleaned = clean_text(text, 80)
    out = "".join(ch.lower() if ch.isascii() and ch.isalnum() else "-" for ch in cleaned)
    key = "-".join(part for part in out.split("-") if part)
    if key != cleaned.lower() or not key:
        digest = hashlib.sha256(str(text).encode("utf-8")).hexdigest()[:8]
        key = f"{key}-{digest}" if key else digest
    return key


def dimension_targets(source: DataSource, as_of: date, dimension: Dimension, prompt: PromptName) -> list[Target]:
    """One target per value of ``dimension`` among customers signed up by ``as_of`` (sorted): the value the filter on
    ``dimension`` selects them by (``Dataset.attribute_values``) — for ``plan`` the plan paid on as_of where the data has
    subscriptions, else the customers' own plan (``lifecycle.filters.plan_sql``), so a subscription base whose customers
    table names no plan still gets one document per plan. Missing and empty values are no target (no filter selects
    them); none at all gives no target."""
    dataset = Dataset.open(source, as_of)
    try:
        ids, values = dataset.attribute_values(dimension)
        signed_up = is_member(ids, dataset.customer_columns(("customer_id",))["customer_id"])
    finally:
        dataset.close()
    chosen = values[signed_up].dropna().astype(str)
    targets = []
    for value in sorted(set(chosen) - {""}):
        filters = Filters.by_dimension({dimension: (value,)})
        targets.append(Target(f"{dimension.value}-{slug(value)}", f"{dimension.value}: {value}", prompt, filters))
    return targets


def stage_targets() -> list[Target]:
    """One ``stage_strategy`` target per framework stage."""
    return [Target(f"stage-{s.id}", s.title, PromptName.STAGE_STRATEGY, stage=s.id) for s in framework_stages()]


def at_risk_targets(source: DataSource, as_of: date, n: int) -> list[Target]:
    """One ``at_risk_intervention`` target per customer among the top ``n`` of the at-risk list."""
    dataset = Dataset.open(source, as_of)
    try:
        top = top_at_risk(dataset, n)
    finally:
        dataset.close()
    return [Target(f"at-risk-{rank:03d}-{slug(cid)}", f"at-risk #{rank}: customer {cid}", PromptName.AT_RISK_INTERVENTION,
                   subject=subject, customer_id=cid)
            for rank, (cid, subject) in enumerate(top, start=1)]


def _bundle_for(target: Target, dataset: Dataset) -> FactBundle:
    bundle = build_facts(dataset)
    if target.customer_id is None:
        return bundle
    return replace(bundle, facts=bundle.facts + tuple(customer_facts(dataset, target.customer_id)))


def anonymised(bundle: FactBundle) -> FactBundle:
    """The bundle with data-derived labels and notes replaced by ids (ids-and-aggregates-only mode)."""
    facts = tuple(replace(f, label=f.id, note=None) for f in bundle.facts)
    return replace(bundle, facts=facts)


def _input_hash(target: Target, bundle: FactBundle, options: PlanOptions) -> str:
    payload = {
        "target": [target.key, target.prompt.value, target.stage, target.subject, target.customer_id],
        "facts": bundle.to_dict(), "language": options.language.value, "context": options.context.__dict__,
        "model": options.llm.model if options.llm else None, "mode": "dry" if options.dry_run else ("llm" if options.llm else "offline"),
        "strict": options.strict, "ids_only": options.ids_only,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _already_done(meta_path: Path, input_hash: str, out_dir: Path) -> TargetOutcome | None:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("input_hash") != input_hash or meta.get("status") not in ("done", "offline", "dry_run"):
        return None
    if not all((out_dir / name).exists() for name in meta.get("files", [])):
        return None
    return TargetOutcome(**{**meta, "status": "skipped"})


ChartMaker = Callable[[Dataset, str], list[ReportChart]]


async def run_target(target: Target, source: DataSource, options: PlanOptions, client: Completer | None,
                     chart_maker: ChartMaker | None = None) -> TargetOutcome:
    """Produce (or skip) one target's documents (the target's dataset is closed when it is done)."""
    dataset = Dataset.open(source, options.as_of, filters=target.filters, config=options.config)
    try:
        return await _run_target_on(target, dataset, options, client, chart_maker)
    finally:
        dataset.close()


async def _run_target_on(target: Target, dataset: Dataset, options: PlanOptions, client: Completer | None,
                         chart_maker: ChartMaker | None) -> TargetOutcome:
    bundle = await asyncio.to_thread(_bundle_for, target, dataset)
    if options.ids_only:
        bundle = anonymised(bundle)
    input_hash = _input_hash(target, bundle, options)
    out = options.out_dir
    meta_path = out / f"{target.key}.meta.json"
    done = _already_done(meta_path, input_hash, out)
    if done is not None:
        return done
    outcome = TargetOutcome(target.key, target.title, "error", input_hash)
    subject = target.subject
    if options.ids_only and subject is not None:
        subject = {"customer_id": subject.get("customer_id"), "reasons": subject.get("reasons")}
    rendered = render_prompt(target.prompt, bundle, options.context, options.language, stage=target.stage, subject=subject)
    charts = await asyncio.to_thread(chart_maker, dataset, options.language.value) if (chart_maker and options.charts) else []
    title = f"{_prompt_title(target.prompt, options.language)} — {target.title}"
    files: dict[str, str | bytes] = {
        f"{target.key}.facts.json": json.dumps(bundle.to_dict(), indent=2, ensure_ascii=False, sort_keys=True),
        f"{target.key}.facts.csv": facts_csv(bundle),
    }
    if options.dry_run:
        files[f"{target.key}.prompt.md"] = rendered.text
        outcome.status = "dry_run"
    elif client is None:
        chart_files = _chart_files(target.key, charts, files)
        language, currency = options.language.value, options.config.revenue.currency
        files[f"{target.key}.md"] = report_markdown(title, bundle, charts, chart_files, language, currency)
        files[f"{target.key}.html"] = report_html(title, bundle, charts, language, currency)
        outcome.status = "offline"
    else:
        try:
            outcome = await _model_target(target, title, bundle, rendered, options, client, charts, files, outcome)
        except LLMError as exc:
            outcome.status, outcome.error = "error", str(exc)
    for name, content in sorted(files.items()):
        write_file_atomically(out / name, content)
    outcome.files = sorted(files)
    write_file_atomically(meta_path, json.dumps(outcome.__dict__, indent=2, sort_keys=True))
    return outcome


def _chart_files(key: str, charts: list[ReportChart], files: dict[str, str | bytes]) -> dict[str, str]:
    """Write each chart as ``<key>.chart-<chart>.svg`` beside the Markdown (which links them); chart key → file name."""
    names = {}
    for chart in charts:
        names[chart.key] = f"{key}.chart-{chart.key}.svg"
        files[names[chart.key]] = chart.svg
    return names


async def _model_target(target: Target, title: str, bundle: FactBundle, rendered: Any, options: PlanOptions,
                        client: Completer, charts: list[ReportChart], files: dict[str, str | bytes],
                        outcome: TargetOutcome) -> TargetOutcome:
    completion = final = await client.complete(rendered.text)
    tokens_in, tokens_out = completion.prompt_tokens, completion.completion_tokens
    report = verify_answer(completion.text, bundle, options.language)
    answer = completion.text
    if not report.ok and not options.strict:
        final = await client.complete(rendered.text, revision_of=answer, feedback=revision_feedback(report.markdown()))
        tokens_in += final.prompt_tokens
        tokens_out += final.completion_tokens
        answer = final.text
        report = verify_answer(answer, bundle, options.language)
    suffix = ".rejected" if (options.strict and not report.ok) else ""
    chart_files = _chart_files(target.key + suffix, charts, files)
    language, currency = options.language.value, options.config.revenue.currency
    header = (f"Verifier: {len(report.claims)} numbers checked, {len(report.unverified)} unverified.\n\n" + report.markdown())
    files[f"{target.key}{suffix}.md"] = report_markdown(title, bundle, charts, chart_files, language, currency, answer, header,
                                                        completion.model)
    files[f"{target.key}{suffix}.html"] = report_html(title, bundle, charts, language, currency, answer, header, completion.model)
    report_json = report.to_dict()
    if final.answer is not None:  # structured answers declare their facts; ids not in the bundle were invented
        report_json["undeclared_fact_ids"] = undeclared_fact_ids(final.answer, {f.id for f in bundle.facts})
    files[f"{target.key}.verifier.json"] = json.dumps(report_json, indent=2, ensure_ascii=False)
    outcome.answer_format = "structured" if final.answer is not None else "text"
    outcome.status = "failed_verification" if suffix else "done"
    outcome.prompt_tokens, outcome.completion_tokens = tokens_in, tokens_out
    outcome.cost = round(tokens_in / 1e6 * options.price_in_per_mtok + tokens_out / 1e6 * options.price_out_per_mtok, 6)
    outcome.verifier = report.counts()
    if final.finish_reason == "length":
        outcome.error = "the model's answer was truncated (finish_reason=length); raise --max-tokens"
    return outcome


def verify_answer(answer: str, bundle: FactBundle, language: Language) -> VerificationReport:
    """The verifier's report on a model's answer: the same call as the MCP tool ``verify_plan`` (no prompt text is
    passed, so nothing rendered into the prompt — facts or untrusted labels — can exempt a number)."""
    return verify_draft(answer, bundle, Language(language).value)


def _prompt_title(prompt: PromptName, language: Language = Language.EN) -> str:
    if language is not Language.EN and prompt is PromptName.LIFECYCLE_MAP:
        return report_text(language.value, "report")
    return {
        PromptName.LIFECYCLE_MAP: "Customer lifecycle map", PromptName.STAGE_STRATEGY: "Stage strategy",
        PromptName.AT_RISK_INTERVENTION: "At-risk intervention plan", PromptName.SUCCESS_MEASUREMENT: "Success measurement plan",
        PromptName.EXECUTIVE_SUMMARY: "Executive summary",
    }[prompt]


async def run_plan(source: DataSource, targets: list[Target], options: PlanOptions,
                   on_done: Callable[[TargetOutcome], None] | None = None,
                   chart_maker: ChartMaker | None = None, on_status: StatusCallback | None = None) -> dict[str, Any]:
    """Run every target (at most ``options.concurrency`` at once) and write ``index.md`` and ``manifest.json``.

    With ``options.batch`` the model calls go through the Batch API; ``on_status`` hears about each batch.
    """
    options.out_dir.mkdir(parents=True, exist_ok=True)
    client: ChatClient | BatchCollector | None = None
    if options.llm and not options.dry_run:
        client = ChatClient(options.llm)
        if options.batch:  # every target waits on the same batch job: no client-side concurrency limit
            client = BatchCollector(client, options.out_dir / ".batch", len(targets), options.batch_poll_s, on_status)
    limit = len(targets) if isinstance(client, BatchCollector) else options.concurrency
    semaphore = asyncio.Semaphore(max(1, limit))
    outcomes: dict[str, TargetOutcome] = {}

    async def one(target: Target) -> None:
        async with semaphore:
            try:
                outcome = await run_target(target, source, options, client, chart_maker)
            except Exception as exc:  # one bad target must not sink the batch; reported in the manifest
                outcome = TargetOutcome(target.key, target.title, "error", "", error=f"{type(exc).__name__}: {exc}")
            finally:
                if isinstance(client, BatchCollector):
                    client.target_finished()
            outcomes[target.key] = outcome
            if on_done:
                on_done(outcome)

    try:
        await asyncio.gather(*(one(t) for t in targets))
    finally:
        if client is not None:
            await client.close()
    ordered = [outcomes[t.key] for t in targets if t.key in outcomes]
    manifest = {
        "as_of": options.as_of.isoformat(), "language": options.language.value,
        "mode": "dry_run" if options.dry_run else ("model" if options.llm else "offline"),
        "model": options.llm.model if options.llm else None,
        "base_url": options.llm.base_url if options.llm else None,
        "api": ("batch" if options.batch else "chat") if options.llm and not options.dry_run else None,
        "batch_ids": client.batch_ids if isinstance(client, BatchCollector) else [],
        "targets": [o.__dict__ for o in ordered],
        "totals": {
            "targets": len(ordered),
            "by_status": {s: sum(1 for o in ordered if o.status == s) for s in sorted({o.status for o in ordered})},
            "prompt_tokens": sum(o.prompt_tokens for o in ordered),
            "completion_tokens": sum(o.completion_tokens for o in ordered),
            "cost": round(sum(o.cost for o in ordered), 6),
        },
    }
    write_file_atomically(options.out_dir / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    write_file_atomically(options.out_dir / "index.md", _index(ordered, options))
    return manifest


def _index(outcomes: list[TargetOutcome], options: PlanOptions) -> str:
    lines = [f"# Lifecycle plans (as of {options.as_of.isoformat()})", "", "| target | status | document | verifier |", "|---|---|---|---|"]
    for o in outcomes:
        doc = next((f for f in o.files if f.endswith(".md") and not f.endswith(".prompt.md")), None) or \
            next((f for f in o.files if f.endswith(".prompt.md")), "")
        verifier = ", ".join(f"{k} {v}" for k, v in (o.verifier or {}).items() if v) or ""
        status = o.status + (f" ({o.error})" if o.error else "")
        lines.append(f"| {markdown_text(o.title, 80)} | {markdown_text(status, 200)} | [{doc}]({doc}) | {verifier} |")
    return "\n".join(lines) + "\n"


def fact_ids(facts: tuple[Fact, ...]) -> list[str]:
    """Ids of facts, in order (for logs and tests)."""
    return [f.id for f in facts]
