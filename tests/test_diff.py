"""``optout-audit diff``: two real crawls of a local web whose files change between them.

The first run crawls the web as it was, the second (a new farm process) as it is now, both with a
shared ``--cache`` so the second run revalidates what the first stored: a changed file must be
read anew, a site that went down or answers 503 must not be hidden behind its stored copy.

Between the runs:
- ``gains-gptbot.test`` adds ``User-agent: GPTBot`` / ``Disallow: /``;
- ``drops-tdm.test`` drops its ``tdm-reservation: 1`` and ``tdm-policy`` headers;
- ``goes-down.test`` refuses connections;
- ``flaky.test``'s robots.txt answers 503;
- ``opens-up.test`` replaces ``User-agent: *`` / ``Disallow: /`` by ``Allow: /`` (every agent changes);
- ``steady.test`` does not change (its documents are revalidated: 304);
- ``removed.test`` leaves the input list, ``added.test`` joins it.
"""

from __future__ import annotations

import csv
import json

import pytest
from crawling import crawl, optout_audit

from optout_audit.agents import ai_agents
from optout_audit.webfarm import Resource, Site, running_farm

ALLOW_ALL = "User-agent: *\nAllow: /\n"
BLOCK_GPTBOT = "User-agent: GPTBot\nDisallow: /\n"
HOME = "<html><head><title>t</title></head><body>x</body></html>"
POLICY = "https://drops-tdm.test/tdm-policy.json"


def _site(host: str, robots: str | None, home_headers=(), **kwargs) -> Site:
    resources = {"/": Resource.html(HOME, headers=home_headers).with_validators()}
    if robots is not None:
        resources["/robots.txt"] = Resource.text(robots).with_validators()
    return Site(host, resources, **kwargs)


BEFORE = [
    _site("gains-gptbot.test", ALLOW_ALL),
    _site("drops-tdm.test", ALLOW_ALL, home_headers=[("tdm-reservation", "1"), ("tdm-policy", POLICY)]),
    _site("goes-down.test", BLOCK_GPTBOT),
    _site("flaky.test", ALLOW_ALL),
    _site("opens-up.test", "User-agent: *\nDisallow: /\n"),
    _site("steady.test", "User-agent: CCBot\nDisallow: /\n"),
    _site("removed.test", ALLOW_ALL),
]
AFTER = [
    _site("gains-gptbot.test", BLOCK_GPTBOT),
    _site("drops-tdm.test", ALLOW_ALL),
    _site("goes-down.test", BLOCK_GPTBOT, network="refused"),
    Site("flaky.test", {"/robots.txt": Resource.text("down for maintenance", status=503), "/": Resource.html(HOME)}),
    _site("opens-up.test", ALLOW_ALL),
    _site("steady.test", "User-agent: CCBot\nDisallow: /\n"),
    _site("added.test", BLOCK_GPTBOT),
]
KEPT = ["gains-gptbot.test", "drops-tdm.test", "goes-down.test", "flaky.test", "opens-up.test", "steady.test"]
INPUT_BEFORE = [f"https://{host}/" for host in [*KEPT, "removed.test"]]
INPUT_AFTER = [f"https://{host}/" for host in [*KEPT, "added.test"]] + ["not a url"]

MAIN = ["GPTBot", "ClaudeBot", "CCBot", "Google-Extended", "Applebot-Extended", "meta-externalagent",
        "Bytespider", "PerplexityBot", "OAI-SearchBot", "ChatGPT-User"]  # fmt: skip

EXPECTED = [
    ["added.test", "domain", "reserves_ai_training", "added", "", "yes"],
    ["drops-tdm.test", "domain", "reserves_ai_training", "changed", "yes", "no"],
    ["drops-tdm.test", "domain", "tdm_reservation", "changed", "1", ""],
    ["drops-tdm.test", "domain", "tdm_source", "changed", "header", ""],
    ["drops-tdm.test", "domain", "tdm_policy", "changed", POLICY, ""],
    ["drops-tdm.test", "signal", "tdm_reservation", "disappeared", "true", "false"],
    # robots.txt 503: its rules are unknown, so is everything that hung on them (no home-page fetch).
    ["flaky.test", "domain", "robots_status", "changed", "ok", "server_error"],
    ["flaky.test", "domain", "reserves_ai_training", "changed", "no", "unknown"],
    ["flaky.test", "domain", "blocks_all_crawlers", "changed", "false", ""],
    ["flaky.test", "domain", "noai", "changed", "false", ""],
    ["flaky.test", "domain", "noimageai", "changed", "false", ""],
    ["gains-gptbot.test", "domain", "reserves_ai_training", "changed", "no", "yes"],
    ["gains-gptbot.test", "signal", "robots_names_ai_agent", "appeared", "false", "true"],
    ["gains-gptbot.test", "signal", "robots_training_agent_full", "appeared", "false", "true"],
    ["gains-gptbot.test", "agent", "GPTBot", "changed", "none", "full"],
    # Unreachable: the outcome rows only, nothing guessed about what it would have said.
    ["goes-down.test", "domain", "status", "changed", "ok", "unreachable"],
    ["goes-down.test", "domain", "robots_status", "changed", "ok", "unreachable"],
    ["goes-down.test", "domain", "reserves_ai_training", "changed", "yes", "unknown"],
    ["opens-up.test", "domain", "reserves_ai_training", "changed", "yes", "no"],
    ["opens-up.test", "domain", "blocks_all_crawlers", "changed", "true", "false"],
    ["opens-up.test", "domain", "noai", "changed", "", "false"],  # the home page is now let in
    ["opens-up.test", "domain", "noimageai", "changed", "", "false"],
    ["opens-up.test", "signal", "robots_blocks_all", "disappeared", "true", "false"],
    *(["opens-up.test", "agent", agent.name, "changed", "full", "none"] for agent in ai_agents()),
    ["removed.test", "domain", "reserves_ai_training", "removed", "no", ""],
]
SUMMARY = [
    "5 domains changed, 1 added, 1 removed (190 rows)",
    "+1 domain now reserves AI training site-wide (gains-gptbot.test)",
    "-3 domains no longer reserve AI training site-wide (drops-tdm.test, goes-down.test, opens-up.test)",
    "+1 domain now fully blocks GPTBot (gains-gptbot.test)",
    "-1 domain no longer fully blocks GPTBot (opens-up.test)",
    *(f"-1 domain no longer fully blocks {agent} (opens-up.test)" for agent in MAIN[1:]),
    "-1 dropped robots_blocks_all (opens-up.test)",  # signals by name
    "+1 gained robots_names_ai_agent (gains-gptbot.test)",
    "+1 gained robots_training_agent_full (gains-gptbot.test)",
    "-1 dropped tdm_reservation (drops-tdm.test)",
    "1 became unreachable (goes-down.test)",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    cache = str(base / "httpcache")
    with running_farm(BEFORE) as farm:
        old = crawl(farm, INPUT_BEFORE, base / "runs" / "2026-11-01", "--cache", cache)
    with running_farm(AFTER) as farm:
        new = crawl(farm, INPUT_AFTER, base / "runs" / "2026-11-08", "--cache", cache)
    return old, new


@pytest.fixture(scope="module")
def diffed(runs):
    old, new = runs
    completed = optout_audit("diff", str(old.run_dir), str(new.run_dir))
    assert completed.returncode == 0, completed.stderr
    return completed


def _rows(path):
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_changes_csv_is_exactly_the_expected_rows(runs, diffed):
    _, new = runs
    rows = _rows(new.run_dir / "changes.csv")
    assert rows[0] == ["domain", "scope", "item", "change", "old", "new"]
    assert rows[1:] == EXPECTED
    assert len(EXPECTED) == 24 + len(ai_agents())


def test_summary_is_counted_from_the_changes(runs, diffed):
    _, new = runs
    lines = diffed.stdout.splitlines()
    assert lines[0] == f"changes from {runs[0].run_dir} to {new.run_dir} written to {new.run_dir / 'changes.csv'}"
    assert [line.strip() for line in lines[1:]] == SUMMARY
    print("\n".join(lines))


def test_the_cache_revalidated_and_hid_nothing(runs):
    old, new = runs
    assert old.records["steady.test"]["robots"]["unchanged"] is False
    assert new.records["steady.test"]["robots"]["unchanged"] is True  # 304
    assert new.records["steady.test"]["home"]["unchanged"] is False  # the home page: always fetched whole
    assert new.records["drops-tdm.test"]["home"]["unchanged"] is False  # same body and ETag, other headers
    assert new.records["gains-gptbot.test"]["robots"]["unchanged"] is False  # new ETag: fetched anew
    assert new.records["goes-down.test"]["robots"]["unchanged"] is None  # a failure, not the stored copy
    assert new.records["goes-down.test"]["robots"]["fault"] == "connection_refused"
    assert new.records["flaky.test"]["robots"]["http_status"] == 503  # not the stored 200


def test_invalid_inputs_are_left_out(runs, diffed):
    _, new = runs
    assert new.domains["not a url"]["status"] == "invalid_input"
    assert all(row[0] for row in _rows(new.run_dir / "changes.csv")[1:])


def test_out_option_and_same_run_twice(runs, tmp_path):
    old, _ = runs
    out = tmp_path / "same.csv"
    completed = optout_audit("diff", str(old.run_dir), str(old.run_dir), "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    assert _rows(out) == [["domain", "scope", "item", "change", "old", "new"]]
    assert completed.stdout.splitlines()[1:] == ["  no changes"]


def test_run_json_records_what_the_issue_lists(runs):
    old, _ = runs
    record = json.loads((old.run_dir / "run.json").read_text("utf-8"))
    for key in ("run_id", "started_at", "finished_at", "input", "input_sha256", "counts_by_status", "tool_version",
                "agent_list", "settings"):  # fmt: skip
        assert record[key], key
    assert record["counts_by_status"] == {"ok": 7}
    assert set(record["settings"]) >= {"timeout", "concurrency", "cache"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "nowhere-old", "nowhere-new"], "old run folder not found: nowhere-old"),
        (["history", "nowhere"], "folder not found: nowhere"),
        (["runs", "nowhere"], "folder not found: nowhere"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_2(tmp_path, args, message):
    completed = optout_audit(*args, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr == f"optout-audit: error: {message}\n"


def test_a_folder_without_audit_is_not_a_run(tmp_path):
    (tmp_path / "empty").mkdir()
    completed = optout_audit("diff", "empty", "empty", cwd=tmp_path)
    assert (completed.returncode, completed.stderr) == (
        2,
        "optout-audit: error: empty is not a run folder: it has no audit.jsonl\n",
    )


# -- without crawling: chunking and CSV safety --------------------------------------------------


def _write_audit(folder, records):
    folder.mkdir(parents=True)
    (folder / "audit.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return folder


def test_changes_do_not_depend_on_the_chunk_size(tmp_path):
    import pandas as pd

    from optout_audit.report.diff import compare_runs, read_state
    from optout_audit.report.synthetic import write_synthetic_audit

    runs = []
    for seed in (3, 4):
        (tmp_path / str(seed)).mkdir()
        runs.append(write_synthetic_audit(tmp_path / str(seed) / "audit.jsonl", 600, seed=seed).parent)
    whole = compare_runs(read_state(runs[0]), read_state(runs[1]))
    chunked = compare_runs(read_state(runs[0], chunksize=37), read_state(runs[1], chunksize=41))
    assert len(whole) > 1000
    pd.testing.assert_frame_equal(whole, chunked)


def test_cells_a_spreadsheet_would_run_are_neutralised(tmp_path):
    from optout_audit.items import SiteAudit

    def record(policy):
        verdict = {"reserves_ai_training": "yes", "tdm_reservation": 1, "tdm_source": "header", "tdm_policy": policy,
                   "signals": ["tdm_reservation"], "reservation_signals": ["tdm_reservation"]}  # fmt: skip
        return SiteAudit(input="x.test", domain="x.test", status="ok", verdict=verdict).to_dict()

    old = _write_audit(tmp_path / "old", [record("https://x.test/policy")])
    new = _write_audit(tmp_path / "new", [record('=HYPERLINK("https://evil.test")')])
    completed = optout_audit("diff", str(old), str(new))
    assert completed.returncode == 0, completed.stderr
    assert _rows(new / "changes.csv")[1:] == [
        ["x.test", "domain", "tdm_policy", "changed", "https://x.test/policy", '\'=HYPERLINK("https://evil.test")'],
    ]


def test_summary_names_the_first_domains_then_how_many_more():
    import pandas as pd

    from optout_audit.report.diff import summarise

    rows = [[f"d{n}.test", "signal", "noai", "appeared", "false", "true"] for n in (5, 1, 4, 2, 3)]
    changes = pd.DataFrame(rows, columns=["domain", "scope", "item", "change", "old", "new"])
    assert summarise(changes)[1] == "+5 gained noai (d1.test, d2.test, d3.test and 2 more)"
