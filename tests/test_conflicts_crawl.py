"""conflicts.csv from a real crawl of local-web sites made for each kind of conflict, and clean ones."""

from __future__ import annotations

import csv

import pytest
from crawling import crawl

from optout_audit.report.conflicts import CONFLICT_COLUMNS
from optout_audit.webfarm import Resource, Site, running_farm
from optout_audit.webfarm.pages import home_page

ALLOW_ALL = "User-agent: *\nAllow: /\n"


def _site(host: str, robots: str | None, *, home_headers=(), head="", tdmrep=None, aitxt=None) -> Site:
    resources = {"/": Resource.html(home_page(host, host, head_extra=head), headers=home_headers)}
    resources["/robots.txt"] = Resource.text(robots) if robots is not None else Resource.text("gone", status=404)
    if tdmrep is not None:
        resources["/.well-known/tdmrep.json"] = Resource.json(tdmrep)
    if aitxt is not None:
        resources["/ai.txt"] = Resource.text(aitxt)
    return Site(host, resources)


SITES = [
    _site("google-prefix.test", "User-agent: Google\nDisallow: /\n"),
    _site("typo.test", "User-agent: ClaudBot\nDisallow: /\n"),
    _site("cut-token.test", "User-agent: AI2Bot\nDisallow: /\n"),
    _site("parsers.test", "User-agent: *\nDisallow: /*.html\n"),
    _site(
        "tdm-split.test",
        ALLOW_ALL,
        home_headers=[("tdm-reservation", "1")],
        tdmrep=[{"location": "/", "tdm-reservation": 0}],
    ),
    _site("signal-open.test", "User-Agent: *\nContent-Signal: search=yes, ai-train=no\nAllow: /\n"),
    _site("aitxt-open.test", ALLOW_ALL, aitxt="User-Agent: *\nDisallow: /\n"),
    _site("split.test", "User-agent: GPTBot\nDisallow: /\n"),
    _site("clean.test", ALLOW_ALL, head='<meta name="robots" content="index, follow">'),
    _site("no-robots.test", None),
    _site("closed.test", "User-agent: *\nDisallow: /\n", aitxt="User-Agent: *\nDisallow: /\n"),
]
EXPECTED = {  # domain -> (kind, agent or signal) that must be there
    "google-prefix.test": {("silent_miss", "Google-Extended"), ("parsers_disagree", "Google-Extended")},
    "typo.test": {("silent_miss", "ClaudeBot")},
    "cut-token.test": {("silent_miss", "AI2Bot")},
    "parsers.test": {("parsers_disagree", "*")},
    "tdm-split.test": {("signals_contradict", "tdm_reservation")},
    "signal-open.test": {("signals_contradict", "content_signal")},
    "aitxt-open.test": {("signals_contradict", "ai_txt")},
    "split.test": {("split_by_purpose", "GPTBot")},
}
CLEAN = ("clean.test", "no-robots.test", "closed.test")


@pytest.fixture(scope="module")
def conflicts(tmp_path_factory):
    with running_farm(SITES) as farm:
        run = crawl(farm, [site.host for site in SITES], tmp_path_factory.mktemp("conflicts") / "run")
    path = run.run_dir / "conflicts.csv"  # written by the crawl
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CONFLICT_COLUMNS
        rows = list(reader)
    return run, rows


@pytest.mark.parametrize("domain", sorted(EXPECTED))
def test_each_kind_is_found_on_the_site_made_for_it(conflicts, domain):
    run, rows = conflicts
    found = {(row["kind"], row["agent"] or row["signal"]) for row in rows if row["domain"] == domain}
    assert EXPECTED[domain] <= found, found
    assert run.records[domain]["conflicts"], "the record keeps its conflicts"


@pytest.mark.parametrize("domain", CLEAN)
def test_clean_sites_have_no_rows(conflicts, domain):
    run, rows = conflicts
    assert [row for row in rows if row["domain"] == domain] == []
    assert run.records[domain]["status"] == "ok" and run.records[domain]["conflicts"] == []


def test_severity_follows_the_kind(conflicts):
    _, rows = conflicts
    severity = {
        "silent_miss": "error",
        "parsers_disagree": "warning",
        "signals_contradict": "warning",
        "split_by_purpose": "info",
    }
    assert rows and all(row["severity"] == severity[row["kind"]] for row in rows)
    miss = next(row for row in rows if row["domain"] == "typo.test" and row["kind"] == "silent_miss")
    assert miss["line"] == "1" and "ClaudBot" in miss["detail"]
