"""``report.html``: the run for a person, in one self-contained file (no network, no CDN).

:func:`write_html_report` reads the run folder through its public files only: ``run.json``,
``summary.csv``, ``domains.csv``, ``agents.csv``, ``signals.csv`` and ``conflicts.csv`` by their
documented columns, ``audit.jsonl`` for each shown domain's reasons, and the ``summary.csv`` and
``run.json`` of the run folders beside it for trends. The page holds:

* the run (id, dates, input, agent list) and its counts by status and fault, so every share
  below has its denominator;
* headline shares over the sites that answered;
* SVG charts drawn here (no chart library): share of sites per signal, the top AI agents with
  full / partial / none / unknown, verdicts by purpose class, and trends across runs when the
  folder beside this one holds earlier runs;
* a table of domains, sortable and filterable by a few lines of inline JavaScript, each row
  with its reasons: per named agent the deciding robots.txt line (number and text), the line or
  default every other agent gets, the header and meta values, the tdmrep.json entries, ai.txt,
  licence links and the domain's conflicts.

Everything a site controls is escaped (``html.escape(..., quote=True)``); URLs are shown as
text, never as links. A Content-Security-Policy allows no network at all and only this page's
own script (by its hash), so a missed escape still could not run or fetch anything.

Size: the table shows at most :data:`TABLE_LIMIT` domains (the first in input order); above that
the page says how many it leaves out and where they are (domains.csv, domain_agents.csv,
conflicts.csv, audit.jsonl). See docs/html-report.md for the sizes of 10,000 and 100,000 sites.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optout_audit.auditfile import RUN_FILE
from optout_audit.files import read_json_object

__all__ = ["TABLE_LIMIT", "DomainCounts", "write_html_report"]

#: Most domains the table shows, each with its reasons.
TABLE_LIMIT = 2000
#: Agents in the "top AI agents" chart.
TOP_AGENTS = 20
_STATUSES = ("ok", "unreachable", "timeout", "error", "invalid_input")
_VERDICT_COLOURS = {"full": "#b2182b", "partial": "#ef8a62", "none": "#67a9cf", "unknown": "#bbbbbb"}
_PURPOSES = ("training", "search", "user-triggered", "other")
#: Meta tag names shown among a domain's reasons (every other name is about something else).
_META_NAMES = frozenset({"robots", "tdm-reservation", "tdm-policy", "noai", "noimageai", "ai", "ml"})
_META_TOKENS = ("noai", "noimageai", "noml", "disallowaitraining")
_TABLE_COLUMNS = (
    "domain",
    "status",
    "robots_status",
    "reserves_ai_training",
    "reservation_signals",
    "tdm_reservation",
    "conflicts",
)


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute; None is empty."""
    return html.escape("" if value is None else str(value), quote=True)


# -- reading the run ---------------------------------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return list(csv.DictReader(handle))


def _site_key(row: dict) -> str:
    return row.get("domain") or "\0" + str(row.get("input") or "")


@dataclass
class _Run:
    run_dir: Path
    info: dict
    summary: dict[str, str]
    agents: list[dict[str, str]]
    signals: list[dict[str, str]]
    domains: list[dict[str, str]]  # the first TABLE_LIMIT rows
    sites: int
    faults: Counter
    conflicts: dict[str, list[dict[str, str]]]  # by domain, shown domains only
    conflict_counts: Counter  # by severity, whole run
    records: dict[str, dict] = field(default_factory=dict)  # audit.jsonl, shown domains only
    trends: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DomainCounts:
    """What the page needs of every row of domains.csv: the number of rows and the rows per
    ``fault`` cell (in first-seen order). The report stage hands them in from its totals."""

    sites: int = 0
    faults: Counter = field(default_factory=Counter)


def _first_rows(path: Path, limit: int) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return list(itertools.islice(csv.DictReader(handle), limit))


def _domain_counts(path: Path) -> DomainCounts:
    """Counted from the file, for a page written without the report stage's totals."""
    counts = DomainCounts()
    if not path.is_file():
        return counts
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        column = header.index("fault") if "fault" in header else None
        for row in reader:
            if not row:
                continue
            counts.sites += 1
            if column is not None and column < len(row) and row[column]:
                counts.faults[row[column]] += 1
    return counts


def _conflict_rows(path: Path, shown: set[str]) -> tuple[dict[str, list[dict[str, str]]], Counter]:
    """The conflicts.csv rows of the shown domains, and the rows per severity of the whole file."""
    conflicts: dict[str, list[dict[str, str]]] = {}
    counts: Counter = Counter()
    if not path.is_file():
        return conflicts, counts
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)  # (a dict per row only for the shown domains: the file may be large)
        header = next(reader, [])
        severity = header.index("severity") if "severity" in header else None
        domain = header.index("domain") if "domain" in header else None
        for row in reader:
            if not row:
                continue
            counts[row[severity] if severity is not None and severity < len(row) else ""] += 1
            if domain is not None and domain < len(row) and row[domain] in shown:
                conflicts.setdefault(row[domain], []).append(dict(zip(header, row, strict=False)))
    return conflicts, counts


def _read_run(run_dir: Path, counts: DomainCounts | None = None) -> _Run:
    summary = {row["metric"]: row["value"] for row in _csv_rows(run_dir / "summary.csv") if "metric" in row}
    domains = _first_rows(run_dir / "domains.csv", TABLE_LIMIT)
    if counts is None:
        counts = _domain_counts(run_dir / "domains.csv")
    shown = {_site_key(row) for row in domains}
    conflicts, conflict_counts = _conflict_rows(run_dir / "conflicts.csv", shown)
    run = _Run(
        run_dir,
        read_json_object(run_dir / RUN_FILE),
        summary,
        _csv_rows(run_dir / "agents.csv"),
        _csv_rows(run_dir / "signals.csv"),
        domains,
        counts.sites,
        counts.faults,
        conflicts,
        conflict_counts,
    )
    run.records = _records(run_dir / "audit.jsonl", shown, len(domains))
    run.trends = _trends(run_dir)
    return run


def _records(audit: Path, wanted: set[str], shown_rows: int) -> dict[str, dict]:
    """The audit.jsonl records of the shown domains; reading stops when all are found, or after the
    first ``shown_rows`` records (the shown rows are the first rows of domains.csv, one per record)."""
    found: dict[str, dict] = {}
    if not audit.is_file():
        return found
    records = 0
    with audit.open("rb") as handle:
        for raw in handle:
            if records >= shown_rows:
                break
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            records += 1
            if _site_key(record) in wanted:
                found.setdefault(_site_key(record), record)
                if len(found) == len(wanted):
                    break
    return found


def _trends(run_dir: Path) -> list[dict[str, Any]]:
    """Headline shares of this run and the run folders beside it (their summary.csv), oldest first."""
    points = []
    parent = run_dir.resolve().parent
    try:
        folders = [path for path in parent.iterdir() if (path / "summary.csv").is_file()]
    except OSError:
        return []
    for folder in folders:
        summary = {row["metric"]: row["value"] for row in _csv_rows(folder / "summary.csv") if "metric" in row}
        ok = _number(summary.get("ok"))
        if not ok:
            continue
        started = read_json_object(folder / RUN_FILE).get("started_at") or summary.get("generated_at") or ""
        point = {"run": folder.name, "started_at": str(started), "ok": ok}
        for name in ("reserves_yes", "blocks_all_crawlers", "tdm_reservation", "noai"):
            point[name] = (_number(summary.get(name)) or 0) / ok
        points.append(point)
    return sorted(points, key=lambda point: (point["started_at"], point["run"]))


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


# -- figures and charts ------------------------------------------------------------------------


def _share(part: float | None, whole: float | None) -> str:
    if not whole or part is None:
        return "n/a"
    return f"{100 * part / whole:.1f}%"


def _run_section(run: _Run) -> str:
    info, summary = run.info, run.summary
    fields = [
        ("run", info.get("run_id") or run.run_dir.name),
        ("started", info.get("started_at")),
        ("finished", info.get("finished_at") or "not finished"),
        ("input", info.get("input")),
        ("agent list", info.get("agent_list") or summary.get("agent_list")),
        ("report built", summary.get("generated_at")),
    ]
    facts = "".join(f"<dt>{esc(name)}</dt><dd>{esc(value)}</dd>" for name, value in fields if value)
    statuses = "".join(
        f'<tr><td>{esc(status)}</td><td class="n" data-metric="{esc(status)}">{esc(summary.get(status, "0"))}</td></tr>'
        for status in _STATUSES
    )
    faults = "".join(
        f'<tr><td>{esc(fault)}</td><td class="n">{count}</td></tr>' for fault, count in run.faults.most_common()
    )
    return (
        f'<section id="run"><h2>The run</h2><dl>{facts}</dl>'
        '<div class="cols"><table class="counts">'
        f"<caption>Sites by status ({esc(summary.get('sites', run.sites))} in all)"
        f"</caption>{statuses}</table>"
        + (f'<table class="counts"><caption>Sites by fault</caption>{faults}</table>' if faults else "")
        + "</div></section>"
    )


def _headline_section(run: _Run) -> str:
    summary = run.summary
    ok = _number(summary.get("ok"))
    rows = [
        ("reserve AI training site-wide", "reserves_yes"),
        ("reserve it for part of the site", "reserves_partial"),
        ("reserve nothing", "reserves_no"),
        ("block every crawler", "blocks_all_crawlers"),
        ("have an effective tdm-reservation: 1", "tdm_reservation"),
        ("say noai", "noai"),
    ]
    cells = "".join(
        f'<tr><td>{esc(label)}</td><td class="n share" data-metric="{esc(metric)}">'
        f'{_share(_number(summary.get(metric)), ok)}</td><td class="n">{esc(summary.get(metric, ""))} of '
        f"{esc(summary.get('ok', ''))}</td></tr>"
        for label, metric in rows
    )
    unknown = summary.get("reserves_unknown", "")
    return (
        '<section id="headline"><h2>Headline</h2><p>Shares of the sites that answered (status ok).'
        f' {esc(unknown)} sites could not be read and are <em>unknown</em>, never counted as "no".</p>'
        f'<table class="counts"><tr><th>sites that</th><th>share</th><th>count</th></tr>{cells}</table>'
        f'<p data-metric="share_reserving">share_reserving (summary.csv): {esc(summary.get("share_reserving", ""))}</p>'
        "</section>"
    )


def _bar_chart(chart_id: str, title: str, bars: list[tuple[str, float, str]], note: str = "") -> str:
    """Horizontal bars: (label, share 0..1, tooltip)."""
    height, label_width, width = 18, 300, 760
    rows = []
    for number, (label, share, tip) in enumerate(bars):
        y = number * (height + 4)
        length = max(0.0, min(1.0, share)) * (width - label_width - 60)
        rows.append(
            f'<g class="bar"><title>{esc(tip)}</title>'
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{height}" fill="#2166ac"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}">{100 * share:.1f}%</text></g>'
        )
    total = max(1, len(bars)) * (height + 4)
    return _figure(
        chart_id,
        title,
        f'<svg viewBox="0 0 {width} {total}" width="{width}" height="{total}" '
        f'role="img" aria-label="{esc(title)}">{"".join(rows)}</svg>',
        note,
    )


def _stacked_chart(chart_id: str, title: str, rows: list[tuple[str, dict[str, float]]], note: str = "") -> str:
    """Horizontal 100% bars of full / partial / none / unknown counts."""
    height, label_width, width = 18, 300, 760
    inner = width - label_width - 10
    parts = []
    for number, (label, counts) in enumerate(rows):
        y = number * (height + 4)
        total = sum(counts.values()) or 1
        x = float(label_width)
        segments = []
        for verdict, colour in _VERDICT_COLOURS.items():
            length = inner * counts.get(verdict, 0) / total
            tip = f"{label}: {verdict} {counts.get(verdict, 0):g} of {total:g}"
            segments.append(
                f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{height}" fill="{colour}">'
                f"<title>{esc(tip)}</title></rect>"
            )
            x += length
        parts.append(
            f'<g class="bar"><text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{esc(label)}</text>'
            f"{''.join(segments)}</g>"
        )
    legend = "".join(
        f'<span class="key" style="background:{colour}"></span>{verdict} '
        for verdict, colour in _VERDICT_COLOURS.items()
    )
    total_height = max(1, len(rows)) * (height + 4)
    svg = (
        f'<svg viewBox="0 0 {width} {total_height}" width="{width}" height="{total_height}" role="img" '
        f'aria-label="{esc(title)}">{"".join(parts)}</svg><p class="legend">{legend}</p>'
    )
    return _figure(chart_id, title, svg, note)


def _line_chart(chart_id: str, title: str, points: list[dict[str, Any]], series: dict[str, str]) -> str:
    width, height, left, bottom = 640, 220, 50, 30
    plot_w, plot_h = width - left - 20, height - bottom - 10
    top = max([point[name] for point in points for name in series] + [0.01])
    step = plot_w / max(1, len(points) - 1)
    colours = ("#2166ac", "#b2182b", "#1b7837", "#762a83")
    lines = []
    for colour, (name, label) in zip(colours, series.items(), strict=False):
        xy = [(left + number * step, 10 + plot_h * (1 - point[name] / top)) for number, point in enumerate(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        dots = "".join(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(point["run"])}: '
            f"{esc(label)} {100 * point[name]:.1f}%</title></circle>"
            for (x, y), point in zip(xy, points, strict=True)
        )
        lines.append(f'<polyline class="series" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}')
    axis = (
        f'<line x1="{left}" y1="{10 + plot_h}" x2="{left + plot_w}" y2="{10 + plot_h}" stroke="#444"/>'
        f'<text x="{left - 4}" y="14" text-anchor="end">{100 * top:.0f}%</text>'
        f'<text x="{left - 4}" y="{10 + plot_h}" text-anchor="end">0%</text>'
        f'<text x="{left}" y="{height - 8}">{esc(points[0]["started_at"])}</text>'
        f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{esc(points[-1]["started_at"])}</text>'
    )
    legend = "".join(
        f'<span class="key" style="background:{colour}"></span>{esc(label)} '
        for colour, label in zip(colours, series.values(), strict=False)
    )
    svg = (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{esc(title)}">{axis}{"".join(lines)}</svg><p class="legend">{legend}</p>'
    )
    return _figure(chart_id, title, svg, f"{len(points)} runs: this one and the run folders beside it, by start time.")


def _figure(chart_id: str, title: str, body: str, note: str) -> str:
    caption = f"<figcaption>{esc(title)}</figcaption>"
    return (
        f'<figure class="chart" id="{esc(chart_id)}">{caption}{body}' + (f"<p>{note}</p>" if note else "") + "</figure>"
    )


def _charts_section(run: _Run) -> str:
    charts = []
    signals = [
        (
            row["signal"],
            _number(row.get("share")) or 0.0,
            f"{row['signal']}: {row.get('domains')} of {run.summary.get('ok')} sites that answered",
        )
        for row in run.signals
        if row.get("signal")
    ]
    if signals:
        charts.append(
            _bar_chart(
                "chart-signals",
                "Share of sites carrying each signal (of sites that answered)",
                sorted(signals, key=lambda bar: -bar[1]),
            )
        )
    agents = sorted(run.agents, key=lambda row: (-(_number(row.get("full")) or 0), row.get("agent", "")))
    top = [
        (f"{row['agent']} ({row.get('purpose', '')})", {v: _number(row.get(v)) or 0 for v in _VERDICT_COLOURS})
        for row in agents[:TOP_AGENTS]
    ]
    if top:
        charts.append(
            _stacked_chart(
                "chart-agents",
                f"Top {len(top)} AI agents by sites fully disallowing them",
                top,
                "Per agent, the audited sites whose robots.txt gives it each verdict; unknown: "
                "robots.txt could not be read. Every agent: agents.csv.",
            )
        )
    by_purpose: dict[str, Counter] = {purpose: Counter() for purpose in _PURPOSES}
    for row in run.agents:
        bucket = by_purpose.setdefault(row.get("purpose", "other"), Counter())
        for verdict in _VERDICT_COLOURS:
            bucket[verdict] += _number(row.get(verdict)) or 0
    rows = [(purpose, dict(counts)) for purpose, counts in by_purpose.items() if sum(counts.values())]
    if rows:
        charts.append(_stacked_chart("chart-purpose", "Verdicts by purpose class (every agent x site pair)", rows))
    if len(run.trends) >= 2:
        charts.append(
            _line_chart(
                "chart-trends",
                "Trends across runs (shares of sites that answered)",
                run.trends,
                {
                    "reserves_yes": "reserve AI training",
                    "blocks_all_crawlers": "block every crawler",
                    "tdm_reservation": "tdm-reservation: 1",
                    "noai": "noai",
                },
            )
        )
    else:
        charts.append(
            '<p id="no-trends">No trends: no earlier run with a summary.csv in the folder beside this one.</p>'
        )
    return '<section id="charts"><h2>Charts</h2>' + "".join(charts) + "</section>"


# -- the domain table and its reasons ----------------------------------------------------------


def _robots_reasons(record: dict) -> list[str]:
    robots = record.get("robots") or {}
    items = [
        f"robots.txt: {esc(robots.get('status'))}"
        + (f" (HTTP {esc(robots.get('http_status'))})" if robots.get("http_status") else "")
        + (f" &mdash; {esc(robots.get('error'))}" if robots.get("error") else "")
    ]
    # Agents named by the same rule share a line: an ai.robots.txt block list names 166 of them.
    same_rule: dict[tuple, list[dict]] = {}
    for result in record.get("agents") or []:
        if isinstance(result, dict):
            key = tuple(str(result.get(name)) for name in ("verdict", "via", "line", "rule"))
            same_rule.setdefault(key, []).append(result)
    for results in same_rule.values():
        names = ", ".join(esc(result.get("agent")) for result in results)
        count = f" ({len(results)} agents)" if len(results) > 1 else ""
        items.append(f"<b>{names}</b>{count}: {esc(results[0].get('verdict'))}, {_rule_text(results[0])}")
    other = record.get("other_agents") or {}
    if isinstance(other, dict) and other.get("verdict"):
        named = len(record.get("agents") or [])
        items.append(
            f"every other listed agent{f' ({named} named above)' if named else ''}: "
            f"{esc(other.get('verdict'))}, {_rule_text(other)}"
        )
    evidence = record.get("robots_evidence") or {}
    for key, label in (
        ("content_signals", "Content-Signal"),
        ("content_usage", "Content-Usage"),
        ("disallow_ai_training", "AI-training rule"),
    ):
        for line in evidence.get(key) or []:
            if isinstance(line, dict):
                items.append(f"{label} line {esc(line.get('line'))}: <code>{esc(line.get('value'))}</code>")
    return items


def _rule_text(result: dict) -> str:
    via = result.get("via") or ""
    if result.get("line"):
        return f"{esc(via)}, line {esc(result.get('line'))}: <code>{esc(result.get('rule'))}</code>"
    if via == "default":
        return "default: no group applies"
    if via == "wildcard":
        return "the * group, no rule matches"
    return esc(via) or "robots.txt rules unknown"


def _page_reasons(record: dict) -> list[str]:
    page = record.get("page") or {}
    home = record.get("home") or {}
    if home.get("status") and home.get("status") != "ok":
        return [
            f"home page: {esc(home.get('status'))}"
            + (f" &mdash; {esc(home.get('error'))}" if home.get("error") else "")
        ]
    items = [f"X-Robots-Tag: <code>{esc(value)}</code>" for value in page.get("x_robots_tag") or []]
    for key, label in (
        ("tdm_reservation_header", "tdm-reservation header"),
        ("tdm_policy_header", "tdm-policy header"),
        ("content_usage_header", "Content-Usage header"),
        ("content_signal_header", "Content-Signal header"),
        ("tdm_reservation_meta", "tdm-reservation meta"),
        ("tdm_policy_meta", "tdm-policy meta"),
    ):
        if page.get(key) is not None:
            items.append(f"{label}: <code>{esc(page[key])}</code>")
    for meta in page.get("robots_meta") or []:
        if not isinstance(meta, dict):
            continue
        name, content = str(meta.get("name", "")), str(meta.get("content", ""))
        if name.lower() in _META_NAMES or any(token in content.lower() for token in _META_TOKENS):
            items.append(f'meta <code>name="{esc(name)}" content="{esc(content)}"</code>')
    return items


def _document_reasons(record: dict) -> list[str]:
    items = []
    tdmrep, fetched = record.get("tdmrep_evidence") or {}, record.get("tdmrep") or {}
    if tdmrep:
        if not tdmrep.get("valid"):
            items.append(f"tdmrep.json invalid: {esc(tdmrep.get('error'))}")
        for rule in (tdmrep.get("rules") or [])[:10]:
            if isinstance(rule, dict):
                items.append(
                    f"tdmrep.json entry {esc(rule.get('index'))}: location <code>{esc(rule.get('location'))}"
                    f"</code>, tdm-reservation {esc(rule.get('reservation'))}"
                    + (f", policy <code>{esc(rule.get('policy'))}</code>" if rule.get("policy") else "")
                    + (f" (skipped: {esc(rule.get('error'))})" if rule.get("error") else "")
                )
    elif fetched.get("status"):
        items.append(f"tdmrep.json: {esc(fetched.get('status'))}")
    verdict = record.get("verdict") or {}
    if verdict.get("tdm_source"):
        items.append(
            f"effective tdm-reservation for /: {esc(verdict.get('tdm_reservation'))} from "
            f"{esc(verdict.get('tdm_source'))}"
        )
    aitxt = record.get("aitxt_evidence") or {}
    if aitxt.get("robots_style"):
        state = (
            "disallows everything" if aitxt.get("disallows_all") else "partial" if aitxt.get("partial") else "allows"
        )
        lines = ", ".join(f"<code>{esc(line)}</code>" for line in (aitxt.get("disallowed") or [])[:5])
        items.append(f"ai.txt {state}" + (f": {lines}" if lines else ""))
    licences = list((record.get("robots_evidence") or {}).get("licenses") or [])
    licences += list((record.get("page") or {}).get("license_links") or [])
    items += [f"licence: <code>{esc(url)}</code>" for url in licences[:5]]
    return items


def _conflict_reasons(rows: list[dict[str, str]]) -> list[str]:
    return [
        f'<span class="sev-{esc(row.get("severity"))}">{esc(row.get("severity"))}</span> '
        f"{esc(row.get('kind'))} {esc(row.get('agent') or row.get('signal'))}"
        + (f" (line {esc(row.get('line'))})" if row.get("line") else "")
        + f": {esc(row.get('detail'))}"
        for row in rows
    ]


def _reasons(row: dict[str, str], record: dict | None, conflicts: list[dict[str, str]]) -> str:
    if record is None:
        return esc(row.get("error") or "no record")
    parts = []
    for title, items in (
        ("robots.txt", _robots_reasons(record)),
        ("home page", _page_reasons(record)),
        ("other files", _document_reasons(record)),
        ("conflicts", _conflict_reasons(conflicts)),
    ):
        if items:
            parts.append(f"<h4>{title}</h4><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
    if record.get("error"):
        parts.insert(0, f"<p>{esc(record.get('error'))}</p>")
    return "".join(parts) or "nothing found"


def _table_section(run: _Run) -> str:
    head = "".join(
        f'<th data-col="{number}" tabindex="0">{esc(name)}</th>' for number, name in enumerate(_TABLE_COLUMNS)
    )
    body = []
    for row in run.domains:
        key = row.get("domain") or ""
        conflicts = run.conflicts.get(key, []) if key else []
        severities = Counter(conflict.get("severity") for conflict in conflicts)
        conflict_cell = ", ".join(f"{count} {severity}" for severity, count in severities.most_common())
        cells = [
            row.get("domain") or row.get("input"),
            row.get("status"),
            row.get("robots_status"),
            row.get("reserves_ai_training"),
            (row.get("reservation_signals") or "").replace(";", " "),
            row.get("tdm_reservation"),
            conflict_cell,
        ]
        record = run.records.get(_site_key(row))
        details = f"<details><summary>{esc(cells[0])}</summary>{_reasons(row, record, conflicts)}</details>"
        tds = [f"<td>{details}</td>"] + [f"<td>{esc(value)}</td>" for value in cells[1:]]
        body.append(f'<tr data-reserves="{esc(row.get("reserves_ai_training"))}">{"".join(tds)}</tr>')
    shown, total = len(run.domains), run.sites
    left_out = ""
    if total > shown:
        left_out = (
            f'<p id="left-out">This page shows the first {shown:,} of {total:,} domains (input order) and '
            f"their reasons. Every domain is in domains.csv, every agent verdict in domain_agents.csv, every "
            f"conflict in conflicts.csv, every reason in audit.jsonl.</p>"
        )
    options = "".join(f'<option value="{value}">{value}</option>' for value in ("yes", "partial", "no", "unknown"))
    return (
        f'<section id="domains"><h2>Domains</h2>{left_out}'
        '<p><label>Filter <input id="filter" type="search" placeholder="text in any column"></label> '
        f'<label>reserves <select id="reserves"><option value="">any</option>{options}</select></label> '
        f'<span id="row-count">{shown}</span> rows shown. Click a column to sort, a domain for its reasons.</p>'
        f'<table id="domain-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></section>'
    )


# -- the page ----------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.5em}h4{margin:.4em 0 .1em}
dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dt{font-weight:bold}dd{margin:0}
.cols{display:flex;gap:2em;flex-wrap:wrap}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}
.counts td.n,.counts th{text-align:right}caption{text-align:left;font-weight:bold}
#domain-table{width:100%;font-size:13px}#domain-table th{cursor:pointer;background:#eee;position:sticky;top:0}
#domain-table tr:nth-child(even){background:#f7f7f7}#domain-table td{vertical-align:top}
code{background:#f2f2f2;padding:0 2px;white-space:pre-wrap;word-break:break-all}
figure.chart{margin:1em 0}figcaption{font-weight:bold}svg text{font-size:12px}
.key{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}.sev-error{color:#b2182b;font-weight:bold}
.sev-warning{color:#b35806}.sev-info{color:#555}
"""

# Sorting and filtering; it only reads and reorders the table's own rows and sets text, never HTML.
_SCRIPT = """
(function(){
var table=document.getElementById('domain-table');if(!table)return;
var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
var filter=document.getElementById('filter'),reserves=document.getElementById('reserves');
var count=document.getElementById('row-count');
function cell(row,i){var c=row.cells[i];var s=c.querySelector('summary');return (s?s.textContent:c.textContent).trim();}
function apply(){var q=filter.value.toLowerCase(),r=reserves.value,n=0;
rows.forEach(function(row){var show=(!r||row.getAttribute('data-reserves')===r)&&
(!q||row.textContent.toLowerCase().indexOf(q)>=0);
row.hidden=!show;if(show)n++;});count.textContent=String(n);}
filter.addEventListener('input',apply);reserves.addEventListener('change',apply);
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
function sort(){var up=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(o){o.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',up?'ascending':'descending');
rows.sort(function(a,b){var x=cell(a,i),y=cell(b,i),nx=parseFloat(x),ny=parseFloat(y);
var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return up?c:-c;});
rows.forEach(function(row){body.appendChild(row);});}
th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter')sort();});});
})();
"""


def render_html(run_dir: Path, counts: DomainCounts | None = None) -> str:
    """The page of a run folder, as text; ``counts``: domains.csv's (counted from the file if not given)."""
    run = _read_run(Path(run_dir), counts)
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'; "
        "form-action 'none'; base-uri 'none'"
    )
    title = f"optout-audit run {run.info.get('run_id') or run.run_dir.name}"
    conflicts = ", ".join(f"{count} {severity}" for severity, count in run.conflict_counts.most_common()) or "none"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{esc(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{esc(title)}</h1>"
        + _run_section(run)
        + _headline_section(run)
        + _charts_section(run)
        + f'<p id="conflict-total">Conflicts in the run: {esc(conflicts)} (conflicts.csv).</p>'
        + _table_section(run)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_html_report(run_dir: Path, counts: DomainCounts | None = None) -> Path:
    """Write ``run_dir/report.html`` from the run folder's files (written whole, then renamed); return its path.

    ``counts``: the number of domains.csv rows and rows per fault, which the report stage knows
    without reading the file back; counted from the file when not given.
    """
    run_dir = Path(run_dir)
    path = run_dir / "report.html"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(render_html(run_dir, counts), "utf-8")
    partial.replace(path)
    return path
