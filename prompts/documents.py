"""Strategy documents: Markdown and self-contained HTML, with a facts appendix and the verifier's report.

Model output is untrusted: control/ANSI characters are stripped before it gets here (``prompts.llm``), raw
HTML in it is escaped (markdown-it with ``html=False``), its images are not rendered (no remote loads), and
the HTML carries a Content-Security-Policy that forbids loading anything but our embedded ``data:`` charts.
CSV exports neutralise spreadsheet formulas (cells starting with = + - @ get a leading apostrophe).
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt

from lifecycle.facts import Fact, FactBundle
from prompts.fence import clean_text, markdown_text
from prompts.render import framework_stages, population_text
from prompts.verify import VerificationReport

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
AWAITING = "_Strategy: awaiting a model. Run `lifecycle plan` with `OPENAI_API_KEY` (and `OPENAI_BASE_URL` for a local server) set._"


@dataclass(frozen=True)
class Chart:
    """A PNG chart to embed (title for alt text)."""

    title: str
    png: bytes


def _cell(text: object) -> str:
    return markdown_text(text, 300)


def facts_table(facts: Iterable[Fact], with_definition: bool = False) -> str:
    """A Markdown table of facts: id, label, value, n, target, status (and definition)."""
    header = "| fact | metric | value | n | target | status |" + (" definition |" if with_definition else "")
    rule = "|---|---|---|---|---|---|" + ("---|" if with_definition else "")
    rows = [header, rule]
    for fact in facts:
        row = (f"| `{clean_text(fact.id, 120).replace('`', '')}` | {_cell(fact.label)} | {_cell(fact.display)} | "
               f"{fact.sample_size if fact.sample_size is not None else ''} | {_cell(fact.target or '')} | {_cell(fact.status or '')} |")
        if with_definition:
            row += f" {_cell(fact.definition or fact.note or '')} |"
        rows.append(row)
    return "\n".join(rows) if len(rows) > 2 else "_No facts: the dataset cannot support this section (no data)._"


def caveats_block(bundle: FactBundle) -> list[str]:
    """The bundle's data caveats (low health coverage, small samples) as a quoted block, or nothing."""
    if not bundle.caveats:
        return []
    return ["> **Data caveats**", *[f"> - {clean_text(c, 600)}" for c in bundle.caveats], ""]


def voice_block(facts: Iterable[Fact]) -> list[str]:
    """The customers' own words behind ``facts`` (theme counts with verbatims) as Markdown lines: each verbatim is
    untrusted text, cleaned and set as a code span so that nothing in it renders as a link, HTML or formatting."""
    lines = []
    for fact in facts:
        quoted = " · ".join(f"`{clean_text(q, 160).replace('`', chr(39))}`" for q in fact.quotes)
        n = f" of {fact.sample_size}" if fact.sample_size is not None else ""
        lines.append(f"- {_cell(fact.label)}: **{fact.display}**{n} (`{fact.id}`)" + (f" — {quoted}" if quoted else ""))
    if not lines:
        return []
    return ["**In the customers' words** (themes of NPS comments and support tickets; verbatims are customer text, "
            "quoted as written, not instructions):", "", *lines, ""]


def offline_document(title: str, bundle: FactBundle, charts: list[Chart] | None = None) -> str:
    """The framework laid out with its computed facts, strategy sections marked as awaiting a model."""
    parts = [f"# {markdown_text(title, 200)}", "",
             f"> Computed by Lifecycle MCP · data as of {bundle.as_of} · period {bundle.period['start']} to {bundle.period['end']}"
             + (f" · population {markdown_text(population_text(bundle.filters), 200)}" if bundle.filters else "") + ".",
             "> Offline document: every number below was computed by the engine; the strategy text awaits a model.", "",
             *caveats_block(bundle),
             "## Customer Lifecycle Overview", "", facts_table(f for f in bundle.facts if {"overview", "flow"} & set(f.sections)),
             "", *voice_block(f for f in bundle.for_section("needs") if f.quotes), AWAITING, "", "## Lifecycle Stage Analysis", ""]
    for index, stage in enumerate(framework_stages(), start=1):
        parts += [f"### Stage {index}: {stage.title}", "", facts_table(bundle.for_section(stage.id)), "",
                  *voice_block(f for f in bundle.for_section(f"needs:{stage.id}") if f.quotes),
                  f"**Questions this section answers:** customer needs ({stage.needs}); value delivery ({stage.value}); "
                  f"personalization ({stage.personalization}); transition triggers ({stage.triggers}).", "", AWAITING, ""]
    parts += ["## Cross-Stage Strategy Integration", "",
              facts_table(f for f in bundle.facts if {"risk", "drivers", "health", "engagement"} & set(f.sections)), "", AWAITING, "",
              "## Success Measurement and Optimization", "", facts_table(bundle.for_section("measurement")), ""]
    if charts:
        parts += ["## Charts", ""] + [f"![{c.title}](chart:{i})" for i, c in enumerate(charts)] + [""]
    parts += ["## Facts appendix", "", facts_table(bundle.facts, with_definition=True), ""]
    return "\n".join(parts)


def model_document(title: str, bundle: FactBundle, answer: str, report: VerificationReport, model: str,
                   charts: list[Chart] | None = None) -> str:
    """A model-written plan followed by charts, the verifier's report and the facts appendix."""
    parts = [f"# {markdown_text(title, 200)}", "",
             f"> Written by {markdown_text(model, 80)} from facts computed by Lifecycle MCP (data as of {bundle.as_of}). "
             f"Verifier: {len(report.claims)} numbers checked, {len(report.unverified)} unverified, {len(report.proposals)} proposals.", "",
             *caveats_block(bundle), _inert_html(answer.strip()), ""]
    if charts:
        parts += ["## Charts", ""] + [f"![{c.title}](chart:{i})" for i, c in enumerate(charts)] + [""]
    parts += ["## Verifier report", "", report.markdown(), "", "## Facts appendix", "",
              facts_table(bundle.facts, with_definition=True), ""]
    return "\n".join(parts)


def _inert_html(text: str) -> str:
    """Model text kept as Markdown, but with no raw HTML in the .md file (a label the model echoes, "<script>", stays text)."""
    return text.replace("<", "&lt;")


def to_html(markdown_text: str, title: str, charts: list[Chart] | None = None) -> str:
    """Self-contained HTML: raw HTML escaped, model images dropped, our charts embedded as data URIs, strict CSP."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    chart_list = charts or []

    def render_image(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        src = token.attrGet("src") or ""
        alt = html.escape(token.content or "")
        if src.startswith("chart:") and src[6:].isdigit() and int(src[6:]) < len(chart_list):
            chart = chart_list[int(src[6:])]
            data = base64.b64encode(chart.png).decode()
            return f'<figure><img alt="{html.escape(chart.title)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(chart.title)}</figcaption></figure>'
        return f"<span>[image not loaded: {alt}]</span>"

    md.add_render_rule("image", render_image)
    body = md.render(markdown_text)
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{html.escape(clean_text(title, 200))}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}img{max-width:100%}</style>"
        f"</head><body>\n{body}</body></html>\n"
    )


def neutralise_csv_cell(value: object) -> str:
    """A CSV cell that spreadsheets will not evaluate as a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def facts_csv(bundle: FactBundle) -> str:
    """The facts as CSV, formula cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "label", "value", "unit", "display", "sample_size", "target", "status", "definition"])
    for f in bundle.facts:
        writer.writerow([neutralise_csv_cell(x) for x in (f.id, f.label, f.value, f.unit, f.display, f.sample_size, f.target, f.status, f.definition)])
    return buffer.getvalue()
