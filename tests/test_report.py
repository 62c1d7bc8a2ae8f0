"""The report stage: audit.jsonl -> domains.csv, domain_agents.csv, agents.csv, signals.csv, summary.csv.

Exact expectations come from the hand-made run in tests/fixtures/audit/small (its README says what
each record is); larger runs come from optout_audit.report.synthetic.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from contract import DESIGN_REQUIRED
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_audit.agents import ai_agents, training_agents
from optout_audit.auditfile import Chunk, read_record
from optout_audit.report import REPORT_COLUMNS, build_reports, csv_cells, neutralise
from optout_audit.report.agents import (
    HEADLINE_AGENTS,
    agent_columns,
    count_verdicts,
    per_agent,
    site_agents,
)
from optout_audit.report.csvsafe import FORMULA_STARTS
from optout_audit.report.load import domain_agents
from optout_audit.report.signals import KNOWN_SIGNALS
from optout_audit.report.synthetic import synthetic_records, write_synthetic_audit
from optout_audit.report.write import csv_text

SMALL = Path(__file__).parent / "fixtures" / "audit" / "small"
STAMP = "2026-09-01T12:00:00Z"
AGENTS = [agent.name for agent in ai_agents()]
AUDITED = ["news.example", "blog.example", "shop.example", "down.example", "slow.example",
           "xn--bcher-kva.example", "reset.example"]  # fmt: skip


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    """A copy of the hand-made run with its reports built (one chunk)."""
    run = tmp_path / "small"
    shutil.copytree(SMALL, run)
    build_reports(run, generated_at=STAMP)
    return run


def text(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def table(path: Path) -> pd.DataFrame:
    """A report file as the text a user sees: every cell a string, empty cells ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# --- files and columns ------------------------------------------------------------------------


def test_report_columns_start_with_design_contract() -> None:
    assert list(REPORT_COLUMNS) == list(DESIGN_REQUIRED)
    for name, required in DESIGN_REQUIRED.items():
        assert REPORT_COLUMNS[name][: len(required)] == required, name


def test_build_reports_writes_every_file_with_its_header(tmp_path: Path) -> None:
    shutil.copytree(SMALL, tmp_path / "run")
    paths = build_reports(tmp_path / "run", generated_at=STAMP)
    assert paths == {name: tmp_path / "run" / name for name in [*REPORT_COLUMNS, "report.html"]}
    assert text(paths.pop("report.html")).startswith("<!DOCTYPE html>")
    for name, path in paths.items():
        body = text(path)
        assert body.split("\n", 1)[0] == ",".join(REPORT_COLUMNS[name])
        assert "\r" not in body, name
        assert body.endswith("\n"), name
    assert not list((tmp_path / "run").glob("*.partial"))


def test_missing_audit_jsonl_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no audit\.jsonl"):
        build_reports(tmp_path)


# --- domains.csv --------------------------------------------------------------------------------

DOMAINS_CSV = """\
input,domain,status,robots_status,reserves_ai_training,reservation_signals,blocks_all_crawlers,noai,noimageai,tdm_reservation,tdm_source,tdm_policy,content_signal,content_usage,error,registered_domain,url,fault,robots_http_status,home_status,tdmrep_status,aitxt_status,own_access,training_agents_full,ai_agents_named,signals,started_at,finished_at,gptbot_verdict,claudebot_verdict,google_extended_verdict,ccbot_verdict,perplexitybot_verdict,applebot_extended_verdict,bytespider_verdict,meta_externalagent_verdict,unread_sources,llmstxt_status,trusttxt_status,rsl_status,tdm_policy_status
https://News.Example/,news.example,ok,ok,yes,robots_training_agent_full,false,false,false,0,header,"'=HYPERLINK(""http://evil.example"",""click"")",'+cmd|' /C calc'!A0,,,news.example,https://news.example/,,200,ok,missing,missing,true,2,3,content_signal;robots_names_ai_agent;robots_training_agent_full,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,full,partial,partial,full,partial,partial,partial,partial,,,,skipped,
blog.example,blog.example,ok,missing,no,,false,false,false,,,,,,,blog.example,https://blog.example/,,404,ok,missing,missing,true,0,0,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,none,none,none,none,none,none,none,none,,,,skipped,
shop.example,shop.example,ok,server_error,yes,tdm_reservation,,,,1,tdmrep.json,https://shop.example/policy.json,,,,shop.example,https://shop.example/,,503,skipped,ok,missing,false,,,tdm_reservation;tdmrep_json,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,unknown,unknown,unknown,unknown,unknown,unknown,unknown,unknown,,,,skipped,
down.example,down.example,unreachable,unreachable,unknown,,,,,,,,,,DNS lookup failed,down.example,https://down.example/,dns_error,,skipped,unreachable,unreachable,,,,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,unknown,unknown,unknown,unknown,unknown,unknown,unknown,unknown,,,,skipped,
slow.example,slow.example,timeout,timeout,unknown,,,,,,,,,,no answer within 30 s,slow.example,https://slow.example/,timeout,,skipped,timeout,timeout,,,,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,unknown,unknown,unknown,unknown,unknown,unknown,unknown,unknown,,,,skipped,
'=cmd|' /C calc'!A0,,invalid_input,skipped,,,,,,,,,,,not a host name,,,,,skipped,skipped,skipped,,,,,,,,,,,,,,,,,,skipped,
'-2+3,,invalid_input,,,,,,,,,,,,empty host,,,,,,,,,,,,,,,,,,,,,,,,,skipped,
bücher.example,xn--bcher-kva.example,ok,ok,yes,robots_blocks_all,true,,,,,,,,,xn--bcher-kva.example,https://xn--bcher-kva.example/,,200,skipped,missing,missing,false,40,1,robots_blocks_all;robots_names_ai_agent,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,none,full,full,full,full,full,full,full,,,,skipped,
reset.example,reset.example,error,error,unknown,,,,,,,,,,connection closed mid-body,reset.example,https://reset.example/,connection_dropped,,skipped,error,error,,,,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z,unknown,unknown,unknown,unknown,unknown,unknown,unknown,unknown,,,,skipped,
"""


def test_domains_csv_is_exactly_one_row_per_record(small_run: Path) -> None:
    # Row 1: two training agents fully disallowed by name (GPTBot, CCBot) of three named;
    # row 3: robots.txt 503, so no agent count (empty, not 0) although tdmrep.json reserves;
    # rows 6-7: invalid inputs kept, their formula-like input neutralised;
    # row 8: '*' full leaves 41 training agents full but GPTBot (named, allowed): 40; NotListedBot ignored.
    # The headline verdicts: news.example names GPTBot and CCBot (full), '*' is partial for the others;
    # shop.example (robots.txt 503) and the failed sites: unknown; invalid inputs: empty.
    assert text(small_run / "domains.csv") == DOMAINS_CSV


def test_domains_csv_reads_back_with_tri_states(small_run: Path) -> None:
    domains = table(small_run / "domains.csv")
    assert list(domains["tdm_reservation"]) == ["0", "", "1", "", "", "", "", "", ""]
    assert list(domains["blocks_all_crawlers"]) == ["false", "false", "", "", "", "", "", "true", ""]
    assert next(iter(domains["tdm_policy"])) == '\'=HYPERLINK("http://evil.example","click")'


# --- domain_agents.csv --------------------------------------------------------------------------

DOMAIN_AGENTS_CSV = """\
domain,agent,purpose,verdict,named,via,rule,line
news.example,*,,partial,false,wildcard,Disallow: /admin/,11
news.example,CCBot,training,full,true,named,Disallow: /,5
news.example,ChatGPT-User,user-triggered,partial,true,named,Disallow: /private/,8
news.example,GPTBot,training,full,true,named,Disallow: /,2
blog.example,*,,none,false,default,,
shop.example,*,,unknown,false,,,
down.example,*,,unknown,false,,,
slow.example,*,,unknown,false,,,
xn--bcher-kva.example,*,,full,false,wildcard,Disallow: /,2
xn--bcher-kva.example,GPTBot,training,none,true,named,Allow: /,4
reset.example,*,,unknown,false,,,
"""


def test_domain_agents_has_a_star_row_per_audited_domain_then_its_named_agents(small_run: Path) -> None:
    # Named agents in the list's order (CCBot, ChatGPT-User, GPTBot); invalid inputs have no rows;
    # NotListedBot (named, not on the list) is left out.
    assert text(small_run / "domain_agents.csv") == DOMAIN_AGENTS_CSV


def test_expanded_domain_agents_has_every_listed_agent_for_every_audited_domain(small_run: Path) -> None:
    rows = domain_agents(small_run, expand=True)
    assert len(AGENTS) == 166
    assert len(rows) == len(AUDITED) * 166
    assert list(rows["domain"].drop_duplicates()) == AUDITED
    assert list(rows["agent"].astype(str)) == AGENTS * len(AUDITED)
    assert set(rows["verdict"]) == {"full", "partial", "none", "unknown"}
    picked = rows.set_index(["domain", "agent"]).loc[
        [("news.example", "GPTBot"), ("news.example", "ChatGPT-User"), ("news.example", "AddSearchBot"),
         ("blog.example", "GPTBot"), ("shop.example", "GPTBot"), ("xn--bcher-kva.example", "GPTBot"),
         ("xn--bcher-kva.example", "CCBot")]
    ].reset_index()  # fmt: skip
    cells = picked.astype(object).where(picked.notna(), None).to_numpy().tolist()
    assert cells == [
        ["news.example", "GPTBot", "training", "full", True, "named", "Disallow: /", 2],
        ["news.example", "ChatGPT-User", "user-triggered", "partial", True, "named", "Disallow: /private/", 8],
        ["news.example", "AddSearchBot", "search", "partial", False, "wildcard", "Disallow: /admin/", 11],
        ["blog.example", "GPTBot", "training", "none", False, "default", None, None],
        ["shop.example", "GPTBot", "training", "unknown", False, None, None, None],
        ["xn--bcher-kva.example", "GPTBot", "training", "none", True, "named", "Allow: /", 4],
        ["xn--bcher-kva.example", "CCBot", "training", "full", False, "wildcard", "Disallow: /", 2],
    ]


def test_expanded_domain_agents_is_typed(small_run: Path) -> None:
    rows = domain_agents(small_run, expand=True)
    dtypes = rows.dtypes.astype(str).to_dict()
    assert dtypes["named"] == "boolean" and dtypes["line"] == "Int64"
    assert dtypes["agent"] == dtypes["purpose"] == dtypes["verdict"] == "category"
    assert list(rows["verdict"].cat.categories) == ["full", "partial", "none", "unknown"]


def test_domain_counts_agree_with_expanded_domain_agents(small_run: Path) -> None:
    rows = domain_agents(small_run, expand=True)
    full = rows[rows["purpose"].eq("training") & rows["verdict"].eq("full")].groupby("domain").size()
    domains = table(small_run / "domains.csv").set_index("domain")
    assert domains.loc["news.example", "training_agents_full"] == str(full["news.example"]) == "2"
    assert domains.loc["xn--bcher-kva.example", "training_agents_full"] == str(full["xn--bcher-kva.example"])
    assert len(training_agents()) - 1 == 40
    verdicts = rows.set_index(["domain", "agent"])["verdict"].astype(str)
    for agent in HEADLINE_AGENTS:
        column = domains[agent.lower().replace("-", "_") + "_verdict"]
        for domain in AUDITED:
            assert column[domain] == verdicts[(domain, agent)], (domain, agent)


def test_headline_agents_are_on_the_agent_list() -> None:
    assert set(HEADLINE_AGENTS) <= set(AGENTS)


# --- agents.csv ---------------------------------------------------------------------------------


def test_agents_csv_counts_domains_per_verdict(small_run: Path) -> None:
    agents = table(small_run / "agents.csv")
    assert list(agents["agent"]) == AGENTS
    picked = agents.set_index("agent").loc[["GPTBot", "CCBot", "ChatGPT-User", "AddSearchBot"]].reset_index()
    expected = pd.DataFrame(
        [
            # news full, blog none, bücher none (named Allow), 4 unknown: 1 / 3
            ["GPTBot", "training", "1", "0", "2", "4", "0.333333", "2"],
            ["CCBot", "training", "2", "0", "1", "4", "0.666667", "1"],
            ["ChatGPT-User", "user-triggered", "1", "1", "1", "4", "0.333333", "1"],
            ["AddSearchBot", "search", "1", "1", "1", "4", "0.333333", "0"],
        ],
        columns=REPORT_COLUMNS["agents.csv"],
    )
    pdt.assert_frame_equal(picked, expected)


def test_full_share_is_empty_without_a_read_robots_txt() -> None:
    columns = ["full", "partial", "none", "unknown", "named"]
    counts = pd.DataFrame(0, index=pd.Index(AGENTS, name="agent"), columns=columns)
    counts.loc["GPTBot", ["full", "none", "unknown"]] = [3, 1, 5]
    counts.loc["CCBot", "unknown"] = 9
    agents = per_agent(counts).set_index("agent")
    assert agents.loc["GPTBot", "full_share"] == 0.75
    assert agents.loc["CCBot", "full_share"] is pd.NA
    assert str(agents["full_share"].dtype) == "Float64"


# --- signals.csv and summary.csv -----------------------------------------------------------------

SIGNALS_CSV = """\
signal,domains,share,reserving
robots_training_agent_full,1,0.25,true
robots_training_agent_partial,0,0.0,true
robots_blocks_all,1,0.25,true
noai,0,0.0,true
noimageai,0,0.0,true
tdm_reservation,1,0.25,true
tdmrep_partial,0,0.0,true
content_signal_ai_train_no,0,0.0,true
content_usage_train_ai_n,0,0.0,true
disallow_ai_training,0,0.0,true
ai_txt_disallow_all,0,0.0,true
content_usage_train_ai_n_partial,0,0.0,true
disallow_ai_training_partial,0,0.0,true
ai_txt_partial,0,0.0,true
rsl_prohibits_ai_train,0,0.0,true
rsl_prohibits_ai_train_partial,0,0.0,true
rsl_licence_required,0,0.0,true
rsl_licence_required_partial,0,0.0,true
trust_txt_datatraining_no,0,0.0,true
robots_names_ai_agent,2,0.5,false
tdmrep_json,1,0.25,false
ai_txt,0,0.0,false
rsl_license,0,0.0,false
rsl_document,0,0.0,false
content_signal,1,0.25,false
content_usage,0,0.0,false
x_robots_tag,0,0.0,false
disallow_ai_training_line,0,0.0,false
bing_nocache,0,0.0,false
bing_noarchive,0,0.0,false
trust_txt,0,0.0,false
llms_txt,0,0.0,false
tdm_policy_document,0,0.0,false
"""

SUMMARY_CSV = f"""\
metric,value
sites,9
invalid_input,2
ok,4
unreachable,1
timeout,1
error,1
reserves_yes,3
reserves_partial,0
reserves_no,1
reserves_unknown,3
reserves_unknown_unread,0
share_reserving,0.75
blocks_all_crawlers,1
tdm_reservation,1
noai,0
noimageai,0
unreadable_lines,0
duplicate_lines,
complete,
agent_list,ai.robots.txt@738c80d (2026-08-22)
generated_at,{STAMP}
"""


def test_signals_csv_counts_records_and_shares_over_ok_sites(small_run: Path) -> None:
    # 4 ok sites; every known signal is listed, seen or not, reservation signals first, in a fixed order.
    assert text(small_run / "signals.csv") == SIGNALS_CSV


def test_summary_csv(small_run: Path) -> None:
    assert text(small_run / "summary.csv") == SUMMARY_CSV


def test_empty_run_has_headers_zeros_and_empty_shares(tmp_path: Path) -> None:
    (tmp_path / "audit.jsonl").write_text("", encoding="utf-8")
    paths = build_reports(tmp_path, generated_at=STAMP)
    assert len(table(paths["domains.csv"])) == len(table(paths["domain_agents.csv"])) == 0
    agents = table(paths["agents.csv"])
    assert len(agents) == 166
    assert set(agents["full"]) == {"0"}
    assert set(agents["full_share"]) == {""}
    signals = table(paths["signals.csv"])
    assert list(signals["signal"]) == list(KNOWN_SIGNALS)
    assert set(signals["domains"]) == {"0"}
    assert set(signals["share"]) == {""}
    summary = table(paths["summary.csv"]).set_index("metric")["value"]
    assert summary["sites"] == "0"
    assert summary["share_reserving"] == ""


# --- reading --------------------------------------------------------------------------------------


def test_cut_last_line_and_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    lines = (SMALL / "audit.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    cut = lines[0][: len(lines[0]) // 2]  # an interrupted write
    (tmp_path / "audit.jsonl").write_text("".join(lines[:3]) + "\n" + "".join(lines[3:]) + "[1]\n" + cut,
                                          encoding="utf-8")  # fmt: skip
    paths = build_reports(tmp_path, chunksize=4, generated_at=STAMP)
    assert text(paths["domains.csv"]) == DOMAINS_CSV
    summary = table(paths["summary.csv"]).set_index("metric")["value"]
    assert summary["unreadable_lines"] == "2"


def _chunk(records: list[dict], first: int = 0) -> Chunk:
    return Chunk(first, [read_record(json.dumps(record).encode()) for record in records], [], len(records))


def test_chunk_frames_have_the_schema_dtypes() -> None:
    sites = _chunk(list(synthetic_records(40)), first=100).sites()
    assert list(sites.index) == list(range(100, 140))
    assert sites.index.name == "record"
    dtypes = sites.dtypes.astype(str)
    assert dtypes["tdm_reservation"] == dtypes["robots_http_status"] == dtypes["other_line"] == "Int64"
    assert dtypes["noai"] == dtypes["own_access"] == dtypes["blocks_all_crawlers"] == "boolean"
    assert dtypes["domain"] == dtypes["reserves_ai_training"] == "str"
    assert all(isinstance(value, list) for value in sites["signals"])


def test_named_entries_override_the_star_reading() -> None:
    records = [
        {"input": "a.test", "domain": "a.test", "status": "ok",
         "agents": [{"agent": "GPTBot", "verdict": "full", "named": True, "via": "named", "rule": "Disallow: /",
                     "line": 2},
                    {"agent": "CCBot", "verdict": "none", "named": True, "via": "named", "rule": "", "line": 4},
                    {"agent": "CCBot", "verdict": "partial", "named": True, "via": "named", "rule": "Disallow: /a",
                     "line": 5}],
         "other_agents": {"agent": "*", "verdict": "none", "named": False, "via": "default", "rule": "",
                          "line": None}},
        {"input": "b", "status": "invalid_input", "error": "not a host name"},
        {"input": "c.test", "domain": "c.test", "status": "timeout", "other_agents": {}},
    ]  # fmt: skip
    chunk = _chunk(records, first=10)
    sites, named = chunk.sites(), chunk.named()
    rows = site_agents(sites, named)
    # a.test: its "*" row, then CCBot (the last of its two entries) and GPTBot in the list's order
    assert rows[["record", "agent", "verdict"]].to_numpy().tolist() == [
        [10, "*", "none"],
        [10, "CCBot", "partial"],
        [10, "GPTBot", "full"],
        [12, "*", "unknown"],
    ]
    columns = agent_columns(sites, named)
    assert list(columns["training_agents_full"]) == [1, pd.NA, pd.NA]
    assert list(columns["ai_agents_named"]) == [2, pd.NA, pd.NA]
    assert columns["gptbot_verdict"].fillna("").tolist() == ["full", "", "unknown"]
    assert columns["claudebot_verdict"].fillna("").tolist() == ["none", "", "unknown"]
    verdicts = count_verdicts(sites, named)
    assert verdicts.loc["GPTBot"].tolist() == [1, 0, 0, 1, 1]  # full partial none unknown named
    assert verdicts.loc["CCBot"].tolist() == [0, 1, 0, 1, 1]
    assert verdicts.loc["ClaudeBot"].tolist() == [0, 0, 1, 1, 0]


def test_counts_equal_the_expanded_pairs(tmp_path: Path) -> None:
    # agents.csv and domains.csv count from the compact rows; the expanded pairs must give the same.
    write_synthetic_audit(tmp_path / "audit.jsonl", 700, seed=5)
    paths = build_reports(tmp_path, chunksize=99, generated_at=STAMP)
    pairs = domain_agents(tmp_path, expand=True)
    counts = pairs.groupby(["agent", "verdict"], observed=False).size().unstack()
    agents = pd.read_csv(paths["agents.csv"]).set_index("agent")
    for verdict in ("full", "partial", "none", "unknown"):
        assert counts[verdict].reindex(agents.index).tolist() == agents[verdict].tolist(), verdict
    named = pairs.groupby("agent", observed=False)["named"].sum().reindex(agents.index)
    assert named.tolist() == agents["named"].tolist()


# --- chunks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunksize", [1, 2, 4, 8])
def test_chunk_size_does_not_change_any_file(small_run: Path, tmp_path: Path, chunksize: int) -> None:
    run = tmp_path / f"chunks{chunksize}"
    shutil.copytree(SMALL, run)
    build_reports(run, chunksize=chunksize, generated_at=STAMP)
    for name in REPORT_COLUMNS:
        assert text(run / name) == text(small_run / name), name


def test_synthetic_run_same_in_small_and_large_chunks(tmp_path: Path) -> None:
    for name, chunksize in (("small", 97), ("large", 3_000)):
        (tmp_path / name).mkdir()
        write_synthetic_audit(tmp_path / name / "audit.jsonl", 3_000, seed=7)
        build_reports(tmp_path / name, chunksize=chunksize, generated_at=STAMP)
    for name in REPORT_COLUMNS:
        assert text(tmp_path / "small" / name) == text(tmp_path / "large" / name), name


def test_synthetic_20000_records_in_small_chunks(tmp_path: Path) -> None:
    write_synthetic_audit(tmp_path / "audit.jsonl", 20_000, seed=1)
    paths = build_reports(tmp_path, chunksize=1_500, generated_at=STAMP)
    domains = table(paths["domains.csv"])
    audited = domains[domains["status"].ne("invalid_input")]
    summary = table(paths["summary.csv"]).set_index("metric")["value"]
    assert len(domains) == 20_000 == int(summary["sites"])
    assert len(domain_agents(tmp_path, expand=True)) == len(audited) * 166
    compact = table(paths["domain_agents.csv"])
    assert compact["agent"].eq("*").sum() == len(audited)
    agents = table(paths["agents.csv"]).set_index("agent")
    per_verdict = agents[["full", "partial", "none", "unknown"]].astype(int).sum(axis=1)
    assert set(per_verdict) == {len(audited)}
    assert int(agents.loc["GPTBot", "full"]) == (domains["training_agents_full"].isin(["4", "41"])).sum()
    counts = domains["reserves_ai_training"].value_counts()
    assert int(summary["reserves_yes"]) == counts["yes"]
    assert int(summary["ok"]) == domains["status"].eq("ok").sum()


# --- CSV injection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\n=1"),  # a CR also becomes a line feed (quoted by the writer)
        ("a\r\nb", "a\nb"),
        ("a=b", "a=b"),  # only the first character matters
        ("example.com", "example.com"),
        ("", ""),
        (None, None),
    ],
)
def test_neutralise(value: str | None, cell: str | None) -> None:
    assert neutralise(pd.Series([value, value, "x"], dtype="str")).tolist() == [cell, cell, "x"]


@settings(deadline=None)  # pandas' first calls are slow on a loaded machine; the example count bounds the run
@given(st.lists(st.text(alphabet=st.sampled_from("=+-@\t\r\nab,\"'é"), max_size=6), max_size=8))
def test_neutralised_cells_never_start_a_formula(values: list[str]) -> None:
    cells = neutralise(pd.Series(values, dtype="str")).tolist()
    for value, cell in zip(values, cells, strict=True):
        assert not cell.startswith(FORMULA_STARTS)
        plain = value.replace("\r\n", "\n").replace("\r", "\n")
        assert cell in (plain, "'" + plain)


def test_csv_cells_formats_booleans_numbers_and_text() -> None:
    frame = pd.DataFrame({
        "flag": pd.array([True, False, pd.NA], dtype="boolean"),
        "count": pd.array([1, 0, pd.NA], dtype="Int64"),
        "text": pd.Series(["=1", "ok", pd.NA], dtype="str"),
    })  # fmt: skip
    out = io.StringIO()
    csv_cells(frame).to_csv(out, index=False, lineterminator="\n")
    assert out.getvalue() == "flag,count,text\ntrue,1,'=1\nfalse,0,ok\n,,\n"


def test_no_cell_of_any_report_starts_a_formula(small_run: Path, tmp_path: Path) -> None:
    # An error text with a line break must stay one cell of one row.
    lines = (SMALL / "audit.jsonl").read_text(encoding="utf-8")
    (tmp_path / "audit.jsonl").write_text(lines.replace("DNS lookup failed", "-DNS\\r\\nlookup\\rfailed"),
                                          encoding="utf-8")  # fmt: skip
    build_reports(tmp_path, generated_at=STAMP)
    for run in (small_run, tmp_path):
        for name in REPORT_COLUMNS:
            with (run / name).open(encoding="utf-8", newline="") as report:
                rows = list(csv.reader(report))
            assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row), name
    domains = table(tmp_path / "domains.csv")
    assert len(domains) == 9
    assert domains.loc[3, "error"] == "'-DNS\nlookup\nfailed"


# --- writing ----------------------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from("=+-@\t\r\nab,\"'é "), max_size=5)


@given(
    st.lists(
        st.tuples(st.none() | _TEXT, st.none() | st.booleans(), st.none() | st.integers(-5, 10**12),
                  st.none() | st.floats(allow_nan=False, allow_infinity=False), _TEXT),
        max_size=12,
    )
)  # fmt: skip
@settings(deadline=None)
def test_csv_text_is_what_to_csv_writes_of_csv_cells(rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=["text", "flag", "count", "share", "more"], dtype=object).astype(
        {"text": "str", "flag": "boolean", "count": "Int64", "share": "Float64", "more": "str"}
    )
    expected = io.StringIO()
    csv_cells(frame).to_csv(expected, header=False, index=False, lineterminator="\n")
    written = csv_text(frame)
    assert written == expected.getvalue()
    cells = csv_cells(frame).fillna("").astype(str).to_numpy().tolist()
    assert list(csv.reader(io.StringIO(written, newline=""))) == cells
