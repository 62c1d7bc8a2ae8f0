"""domains.csv's fetch statuses of llms.txt, trust.txt, the RSL licence files and the TDM policy, read
from a real crawl of the local web where sites serve, lack and fail those documents."""

from __future__ import annotations

import pytest
from crawling import crawl

import optout_audit
from optout_audit.webfarm import Resource, Site, running_farm
from optout_audit.webfarm.faults import Drop, Reset

ALLOW = "User-agent: *\nAllow: /\n"
HOME = "<html><head><title>t</title></head><body>x</body></html>"
LLMS = "# Site\n\n- [Docs](/docs.md)\n"
TRUST = "belongto=https://journallist.net/\ndatatrainingallowed=no\n"
RSL = (b'<rsl xmlns="https://rslstandard.org/rsl"><content url="/"><license>'
       b'<prohibits type="usage">ai-train</prohibits></license></content></rsl>')  # fmt: skip
POLICY = {"@type": "Offer", "profile": "http://www.w3.org/ns/tdmrep", "permission": [{"action": "tdm:mine"}]}
RESERVED = [("tdm-reservation", "1"), ("tdm-policy", "/policy.json")]


def _site(host: str, documents: dict[str, Resource] | None = None, robots: str = ALLOW, headers=()) -> Site:
    resources = {"/robots.txt": Resource.text(robots), "/": Resource.html(HOME, headers=list(headers))}
    return Site(host, {**resources, **(documents or {})})


SITES = [
    _site(
        "served.test",
        robots="License: /license.xml\n" + ALLOW,
        headers=RESERVED,
        documents={
            "/llms.txt": Resource.text(LLMS),
            "/trust.txt": Resource.text(TRUST),
            "/license.xml": Resource(200, RSL, [("Content-Type", "application/rsl+xml")]),
            "/policy.json": Resource.json(POLICY),
        },
    ),
    _site(
        "failing.test",
        robots="License: /gone.xml\nLicense: /reset.xml\n" + ALLOW,
        headers=RESERVED,
        documents={
            "/llms.txt": Resource.text("busy", status=503),
            "/trust.txt": Resource.text("no pairs here\n"),
            "/reset.xml": Resource(200, RSL, fault=Reset()),
            "/policy.json": Resource.text("oops", status=500),
        },
    ),
    _site(
        "odd.test",
        documents={
            "/llms.txt": Resource.html("<html><body>not markdown</body></html>"),
            "/trust.txt": Resource.text(TRUST * 50, fault=Drop(after=20)),
        },
    ),
    _site("plain.test"),
    Site("refused.test", network="refused"),
]
COLUMNS = ("llmstxt_status", "trusttxt_status", "rsl_status", "tdm_policy_status")
EXPECTED = {
    "served.test": ("ok", "ok", "ok", "ok"),
    # 503; 200 without a variable=value line; a licence 404 and one whose connection is reset; a policy 500
    "failing.test": ("server_error", "invalid", "missing;error", "server_error"),
    # HTML as llms.txt; trust.txt cut mid-body; no licence or policy pointed to
    "odd.test": ("invalid", "error", "skipped", "skipped"),
    "plain.test": ("missing", "missing", "skipped", "skipped"),
    # robots.txt unreachable: nothing else is asked for
    "refused.test": ("skipped", "skipped", "skipped", "skipped"),
    "not a site at all": ("skipped", "skipped", "skipped", "skipped"),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    with running_farm(SITES) as farm:
        lines = [f"https://{site.host}/" for site in SITES] + ["not a site at all"]
        return crawl(farm, lines, tmp_path_factory.mktemp("documents") / "run")


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_documents_fetch_status_is_a_column(run, key):
    assert tuple(run.domains[key][column] for column in COLUMNS) == EXPECTED[key]


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_the_columns_are_the_records_fetch_statuses(run, key):
    record, row = run.records[key], run.domains[key]
    assert row["llmstxt_status"] == record["llmstxt"]["status"]
    assert row["trusttxt_status"] == record["trusttxt"]["status"]
    assert row["tdm_policy_status"] == record["tdm_policy"]["status"]
    assert row["rsl_status"] == (";".join(fetch["status"] for fetch in record["rsl"]) or "skipped")


def test_the_older_columns_keep_their_place(run):
    header = (run.run_dir / "domains.csv").read_text("utf-8").splitlines()[0].split(",")
    assert header[-4:] == list(COLUMNS)
    assert header.index("aitxt_status") == 21 and header.index("unread_sources") == len(header) - 5


def test_the_columns_load_as_fetch_statuses(run):
    domains = optout_audit.load_run(run.run_dir).domains.set_index("domain")
    assert domains.loc["failing.test", "llmstxt_status"] == "server_error"
    assert domains["trusttxt_status"].dtype == "category"
    assert domains.loc["failing.test", "rsl_status"] == "missing;error"
