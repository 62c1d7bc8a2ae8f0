"""The report stage: audit.jsonl -> domains.csv, domain_agents.csv, agents.csv, signals.csv, summary.csv.

Exact expectations come from the hand-made run in tests/fixtures/audit/small (its README says what
each record is); larger runs come from optout_audit.report.synthetic.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest

from contract import DESIGN_REQUIRED
from hypothesis import given, settings
from hypothesis import strategies as st

from optout_audit.agents import ai_agents, training_agents
from optout_audit.report import REPORT_COLUMNS, build_reports, csv_cells, neutralise
from optout_audit.report.agents import count_verdicts, per_agent, per_site_agent
from optout_audit.report.csvsafe import FORMULA_STARTS
from optout_audit.report.domains import with_agent_counts
from optout_audit.report.read import load_named, load_sites
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
    assert paths == {name: tmp_path / "run" / name for name in REPORT_COLUMNS}
    for name, path in paths.items():
        body = text(path)
        assert body.split("\n", 1)[0] == ",".join(REPORT_COLUMNS[name])
        assert "\r" not in body, name
        assert body.endswith("\n"), name
    assert not list((tmp_path / "run").glob("*.partial"))


def test_missing_audit_jsonl_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no audit.jsonl"):
        build_reports(tmp_path)


# --- domains.csv --------------------------------------------------------------------------------

DOMAINS_CSV = """\
input,domain,status,robots_status,reserves_ai_training,reservation_signals,blocks_all_crawlers,noai,noimageai,tdm_reservation,tdm_source,tdm_policy,content_signal,content_usage,error,registered_domain,url,fault,robots_http_status,home_status,tdmrep_status,aitxt_status,own_access,training_agents_full,ai_agents_named,signals,started_at,finished_at
https://News.Example/,news.example,ok,ok,yes,robots_training_agent_full,false,false,false,0,header,"'=HYPERLINK(""http://evil.example"",""click"")",'+cmd|' /C calc'!A0,,,news.example,https://news.example/,,200,ok,missing,missing,true,2,3,content_signal;robots_names_ai_agent;robots_training_agent_full,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
blog.example,blog.example,ok,missing,no,,false,false,false,,,,,,,blog.example,https://blog.example/,,404,ok,missing,missing,true,0,0,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
shop.example,shop.example,ok,server_error,yes,tdm_reservation,,,,1,tdmrep.json,https://shop.example/policy.json,,,,shop.example,https://shop.example/,,503,skipped,ok,missing,false,,,tdm_reservation;tdmrep_json,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
down.example,down.example,unreachable,unreachable,unknown,,,,,,,,,,DNS lookup failed,down.example,https://down.example/,dns_error,,skipped,unreachable,unreachable,,,,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
slow.example,slow.example,timeout,timeout,unknown,,,,,,,,,,no answer within 30 s,slow.example,https://slow.example/,timeout,,skipped,timeout,timeout,,,,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
'=cmd|' /C calc'!A0,,invalid_input,skipped,,,,,,,,,,,not a host name,,,,,skipped,skipped,skipped,,,,,,
'-2+3,,invalid_input,,,,,,,,,,,,empty host,,,,,,,,,,,,,
bücher.example,xn--bcher-kva.example,ok,ok,yes,robots_blocks_all,true,,,,,,,,,xn--bcher-kva.example,https://xn--bcher-kva.example/,,200,skipped,missing,missing,false,40,1,robots_blocks_all;robots_names_ai_agent,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
reset.example,reset.example,error,error,unknown,,,,,,,,,,connection closed mid-body,reset.example,https://reset.example/,connection_dropped,,skipped,error,error,,,,,2026-09-01T10:00:00Z,2026-09-01T10:00:03Z
"""  # noqa: E501


def test_domains_csv_is_exactly_one_row_per_record(small_run: Path) -> None:
    # Row 1: two training agents fully disallowed by name (GPTBot, CCBot) of three named;
    # row 3: robots.txt 503, so no agent count (empty, not 0) although tdmrep.json reserves;
    # rows 6-7: invalid inputs kept, their formula-like input neutralised;
    # row 8: '*' full leaves 41 training agents full but GPTBot (named, allowed): 40; NotListedBot ignored.
    assert text(small_run / "domains.csv") == DOMAINS_CSV


def test_domains_csv_reads_back_with_tri_states(small_run: Path) -> None:
    domains = table(small_run / "domains.csv")
    assert list(domains["tdm_reservation"]) == ["0", "", "1", "", "", "", "", "", ""]
    assert list(domains["blocks_all_crawlers"]) == ["false", "false", "", "", "", "", "", "true", ""]
    assert list(domains["tdm_policy"])[0] == '\'=HYPERLINK("http://evil.example","click")'


# --- domain_agents.csv --------------------------------------------------------------------------


def test_domain_agents_has_every_listed_agent_for_every_audited_domain(small_run: Path) -> None:
    rows = table(small_run / "domain_agents.csv")
    assert len(AGENTS) == 166
    assert len(rows) == len(AUDITED) * 166
    assert list(rows["domain"].drop_duplicates()) == AUDITED  # invalid inputs have no agent rows
    assert list(rows["agent"]) == AGENTS * len(AUDITED)
    assert set(rows["verdict"]) == {"full", "partial", "none", "unknown"}
    assert "NotListedBot" not in set(rows["agent"])


def test_domain_agents_rows_named_and_expanded(small_run: Path) -> None:
    rows = table(small_run / "domain_agents.csv").set_index(["domain", "agent"])
    picked = rows.loc[
        [("news.example", "GPTBot"), ("news.example", "ChatGPT-User"), ("news.example", "AddSearchBot"),
         ("blog.example", "GPTBot"), ("shop.example", "GPTBot"), ("xn--bcher-kva.example", "GPTBot"),
         ("xn--bcher-kva.example", "CCBot")]
    ].reset_index()  # fmt: skip
    expected = pd.DataFrame(
        [
            ["news.example", "GPTBot", "training", "full", "true", "named", "Disallow: /", "2"],
            ["news.example", "ChatGPT-User", "user-triggered", "partial", "true", "named", "Disallow: /private/", "8"],
            ["news.example", "AddSearchBot", "search", "partial", "false", "wildcard", "Disallow: /admin/", "11"],
            ["blog.example", "GPTBot", "training", "none", "false", "default", "", ""],
            ["shop.example", "GPTBot", "training", "unknown", "false", "", "", ""],
            ["xn--bcher-kva.example", "GPTBot", "training", "none", "true", "named", "Allow: /", "4"],
            ["xn--bcher-kva.example", "CCBot", "training", "full", "false", "wildcard", "Disallow: /", "2"],
        ],
        columns=REPORT_COLUMNS["domain_agents.csv"],
    )
    pdt.assert_frame_equal(picked, expected)


def test_domain_counts_agree_with_domain_agents(small_run: Path) -> None:
    rows = table(small_run / "domain_agents.csv")
    full = rows[rows["purpose"].eq("training") & rows["verdict"].eq("full")].groupby("domain").size()
    domains = table(small_run / "domains.csv").set_index("domain")
    assert domains.loc["news.example", "training_agents_full"] == str(full["news.example"]) == "2"
    assert domains.loc["xn--bcher-kva.example", "training_agents_full"] == str(full["xn--bcher-kva.example"])
    assert len(training_agents()) - 1 == 40


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
robots_names_ai_agent,2,0.5,false
content_signal,1,0.25,false
robots_blocks_all,1,0.25,true
robots_training_agent_full,1,0.25,true
tdm_reservation,1,0.25,true
tdmrep_json,1,0.25,false
ai_txt_disallow_all,0,0.0,true
ai_txt_partial,0,0.0,true
content_signal_ai_train_no,0,0.0,true
content_usage_train_ai_n,0,0.0,true
content_usage_train_ai_n_partial,0,0.0,true
disallow_ai_training,0,0.0,true
disallow_ai_training_partial,0,0.0,true
noai,0,0.0,true
noimageai,0,0.0,true
robots_training_agent_partial,0,0.0,true
rsl_licence_required,0,0.0,true
rsl_licence_required_partial,0,0.0,true
rsl_prohibits_ai_train,0,0.0,true
rsl_prohibits_ai_train_partial,0,0.0,true
tdmrep_partial,0,0.0,true
trust_txt_datatraining_no,0,0.0,true
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
share_reserving,0.75
blocks_all_crawlers,1
tdm_reservation,1
noai,0
noimageai,0
unreadable_lines,0
agent_list,ai.robots.txt@738c80d (2026-08-22)
generated_at,{STAMP}
"""


def test_signals_csv_counts_records_and_shares_over_ok_sites(small_run: Path) -> None:
    # 4 ok sites; every reservation signal is listed, seen or not.
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
    assert len(signals) == 19  # detect.verdict.RESERVATION_SIGNALS
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


def test_load_sites_sets_dtypes() -> None:
    records = list(synthetic_records(40))
    sites = load_sites(records, first=100)
    assert list(sites.index) == list(range(100, 140))
    assert sites.index.name == "record"
    dtypes = sites.dtypes.astype(str)
    assert dtypes["tdm_reservation"] == dtypes["robots_http_status"] == dtypes["other_line"] == "Int64"
    assert dtypes["noai"] == dtypes["own_access"] == dtypes["blocks_all_crawlers"] == "boolean"
    assert dtypes["domain"] == dtypes["reserves_ai_training"] == "str"
    assert all(isinstance(value, list) for value in sites["signals"])


def test_per_site_agent_overlays_named_entries_on_other_agents() -> None:
    records = [
        {"input": "a.test", "domain": "a.test", "status": "ok",
         "agents": [{"agent": "GPTBot", "verdict": "full", "named": True, "via": "named", "rule": "Disallow: /",
                     "line": 2}],
         "other_agents": {"agent": "*", "verdict": "none", "named": False, "via": "default", "rule": "",
                          "line": None}},
        {"input": "b", "status": "invalid_input", "error": "not a host name"},
        {"input": "c.test", "domain": "c.test", "status": "timeout", "other_agents": {}},
    ]  # fmt: skip
    sites, named = load_sites(records, first=10), load_named(records, first=10)
    rows = per_site_agent(sites, named)
    assert len(rows) == 2 * 166
    assert list(rows["record"].drop_duplicates()) == [10, 12]
    gpt = rows[rows["agent"].eq("GPTBot")].reset_index(drop=True)
    expected = pd.DataFrame({
        "record": [10, 12], "domain": ["a.test", "c.test"], "verdict": ["full", "unknown"],
        "named": pd.array([True, pd.NA], dtype="boolean"), "via": ["named", pd.NA], "rule": ["Disallow: /", pd.NA],
        "line": pd.array([2, pd.NA], dtype="Int64"),
    }).astype({"domain": "str", "verdict": "str", "via": "str", "rule": "str"})  # fmt: skip
    pdt.assert_frame_equal(gpt[list(expected.columns)].astype({"domain": "str"}), expected)
    counts = with_agent_counts(sites, rows)
    assert list(counts["training_agents_full"]) == [1, pd.NA, pd.NA]
    verdicts = count_verdicts(rows)
    assert verdicts.loc["GPTBot"].tolist() == [1, 0, 0, 1, 1]  # full partial none unknown named
    assert verdicts.loc["CCBot"].tolist() == [0, 0, 1, 1, 0]


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
    with paths["domain_agents.csv"].open(encoding="utf-8") as lines:
        assert sum(1 for _ in lines) - 1 == len(audited) * 166
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
