"""`lifecycle plan`: strategy documents for the whole base, each segment, each stage, or top at-risk customers."""

from __future__ import annotations

import tomllib
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lifecycle.config import load_config
from lifecycle.errors import ConfigError
from lifecycle.filters import Dimension
from lifecycle.scope import Scope
from lifecycle.sources import open_configured
from prompts.llm import LLMSettings, api_key_available
from prompts.plan import PlanOptions, Target, TargetOutcome, at_risk_targets, dimension_targets, run_plan, stage_targets
from prompts.render import BusinessContext, Language, PromptName
from server.commands.root import app
from server.dataset import DEFAULT_ENGINE, EngineOption, engine_name, parse_as_of, resolve_db
from server.interrupt import run_interruptibly

console = Console(stderr=True)


class StructuredOutput(str, Enum):
    """Whether to ask the model for JSON-schema (structured) output."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"


@app.command("plan")
def plan_command(
    db: Optional[Path] = typer.Option(None, "--db", help="Dataset (default: the demo dataset, built when missing)."),
    engine: EngineOption = DEFAULT_ENGINE,
    out: Path = typer.Option(Path("lifecycle-plan"), "--out", help="Output directory (documents, index.md, manifest.json)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="ISO date the plan is computed at (default: the data's last day)."),
    prompt: PromptName = typer.Option(PromptName.LIFECYCLE_MAP, "--prompt", help="Which framework prompt to use."),
    language: Language = typer.Option(Language.EN, "--language", help="Language of the plan: en, ru or zh."),
    by: Optional[Dimension] = typer.Option(None, "--by", help="One document per value of this dimension."),
    stages: bool = typer.Option(False, "--stages", help="One stage_strategy document per lifecycle stage."),
    at_risk: int = typer.Option(0, "--at-risk", min=0, max=500, help="One at_risk_intervention document for each of the top N at-risk customers."),
    model: Optional[str] = typer.Option(None, "--model", help="Model name (default $OPENAI_MODEL or gpt-4o-mini)."),
    offline: bool = typer.Option(False, "--offline", help="Do not call a model even if OPENAI_API_KEY is set."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write rendered prompts and fact bundles only."),
    strict: bool = typer.Option(False, "--strict", help="Fail documents with unverified numbers instead of asking for one revision."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, max=64, help="Model calls in flight at once."),
    timeout: float = typer.Option(120.0, "--timeout", min=1.0, help="Seconds per model call."),
    max_retries: int = typer.Option(3, "--max-retries", min=0, max=10, help="Retries with backoff on 429/5xx/timeouts."),
    max_tokens: int = typer.Option(4000, "--max-tokens", min=64, help="Answer length cap."),
    ids_only: bool = typer.Option(False, "--ids-only", help="Send only ids and aggregates: no names, labels or notes."),
    context_file: Optional[Path] = typer.Option(None, "--context", help="TOML with company, business_model, relationship_length, value_realization_time, growth_opportunities, competitive_factors."),
    company: Optional[str] = typer.Option(None, "--company", help="Company name (overrides --context)."),
    business_model: Optional[str] = typer.Option(None, "--business-model", help="Subscription, transaction, service, …"),
    config_file: Optional[Path] = typer.Option(None, "--config", help="Engine configuration TOML."),
    price_in: float = typer.Option(0.0, "--price-in", help="Price per 1M prompt tokens, for the manifest's cost."),
    price_out: float = typer.Option(0.0, "--price-out", help="Price per 1M completion tokens."),
    no_charts: bool = typer.Option(False, "--no-charts", help="Skip chart rendering."),
    structured: StructuredOutput = typer.Option(StructuredOutput.AUTO, "--structured", help="Ask for JSON-schema output via parse: auto (fall back to text where unsupported), on, off."),
    batch: bool = typer.Option(False, "--batch", help="Send the model calls as one OpenAI Batch API job (half price, within 24 h); a re-run re-attaches to it."),
    batch_poll: float = typer.Option(30.0, "--batch-poll", min=0.01, help="Seconds between batch status checks."),
) -> None:
    """Write lifecycle strategy documents grounded in computed facts (offline without an API key)."""
    config = load_config(config_file)
    source = open_configured(resolve_db(db), engine_name(engine), config.source)
    day = Scope.resolve(source, parse_as_of(as_of)).as_of
    context = _context(context_file, company, business_model)
    use_model = (api_key_available() or model is not None) and not offline and not dry_run
    settings = LLMSettings.from_env(model, timeout_s=timeout, max_retries=max_retries, max_tokens=max_tokens,
                                    structured=structured.value) if use_model else None
    targets: list[Target] = []
    if by is not None:
        by_value = dimension_targets(source, day, by, prompt)
        if not by_value:
            console.print(f"[yellow]No customer signed up by {day} has any {by.value} value: no per-{by.value} "
                          f"documents[/] (run `lifecycle doctor` to see which columns the data fills).")
        targets += by_value
    if stages:
        targets += stage_targets()
    if at_risk:
        targets += at_risk_targets(source, day, at_risk)
    if not targets:
        targets = [Target("all", "all customers", prompt, stage="adoption" if prompt is PromptName.STAGE_STRATEGY else None)]
    options = PlanOptions(out_dir=out, as_of=day, language=language, context=context, llm=settings, dry_run=dry_run,
                          strict=strict, concurrency=concurrency, ids_only=ids_only, price_in_per_mtok=price_in,
                          price_out_per_mtok=price_out, config=config, charts=not no_charts,
                          batch=batch, batch_poll_s=batch_poll)
    api = " via the Batch API" if batch else ""
    mode = "dry run" if dry_run else (f"model {settings.model}{api}" if settings else "offline (no OPENAI_API_KEY: strategy sections await a model)")
    console.print(f"Planning {len(targets)} document(s) as of {day} — {mode} → {out}/")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("documents", total=len(targets))

        def done(outcome: TargetOutcome) -> None:
            bar.advance(task)
            if outcome.status in ("error", "failed_verification"):
                bar.console.print(f"[red]{outcome.key}: {outcome.status}[/] {outcome.error or ''}")

        manifest = run_interruptibly(run_plan(source, targets, options, on_done=done, chart_maker=_chart_maker(),
                                        on_status=lambda message: bar.console.print(message)))
    totals = manifest["totals"]
    console.print(f"Done: {totals['by_status']} · tokens {totals['prompt_tokens']}+{totals['completion_tokens']} · index: {out / 'index.md'}")
    if any(s in totals["by_status"] for s in ("error", "failed_verification")):
        raise typer.Exit(1)


def _context(path: Optional[Path], company: Optional[str], business_model: Optional[str]) -> BusinessContext:
    values: dict[str, str] = {}
    if path is not None:
        try:
            values = {k: str(v) for k, v in tomllib.loads(path.read_text(encoding="utf-8")).items()}
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the business context ({exc})") from None
        unknown = set(values) - set(BusinessContext.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"{path}: unknown context keys {sorted(unknown)}; known: {sorted(BusinessContext.__dataclass_fields__)}")
    if company:
        values["company"] = company
    if business_model:
        values["business_model"] = business_model
    return BusinessContext(**values)


def _chart_maker():  # type: ignore[no-untyped-def]
    from prompts.report.charts import report_charts

    return report_charts
