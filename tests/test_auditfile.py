"""Reading audit.jsonl lines back (resume, shard merge, run.json counts): msgspec or, failing that, any JSON."""

from __future__ import annotations

import json

import pytest

from optout_audit.auditfile import read_line, site_key
from optout_audit.items import Fetch, SiteAudit


def _line(audit: SiteAudit) -> bytes:
    return json.dumps(audit.to_dict()).encode() + b"\n"


def test_a_crawled_site():
    audit = SiteAudit(
        input="example.com",
        line=3,
        domain="example.com",
        status="ok",
        robots=Fetch(status="ok", unchanged=True),
        home=Fetch(status="ok", unchanged=False),
        llmstxt=Fetch(status="missing", unchanged=False),
        rsl=[Fetch(status="ok", unchanged=True)],
    )
    # robots, home, tdmrep, aitxt, llmstxt, trusttxt, tdm_policy, then each licence (run.json's cache counts)
    assert read_line(_line(audit)) == ("example.com", "ok", (True, False, None, None, False, None, None, True))


def test_an_invalid_input_is_keyed_by_its_line():
    line = read_line(_line(SiteAudit(input="not a url", line=7, status="invalid_input")))
    assert line.key == "\0line:7" and line.status == "invalid_input"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # NaN and a document of another shape: msgspec refuses them, json.loads reads them
        (
            b'{"domain": "a.test", "status": "ok", "crawl_delay": NaN, "home": {"unchanged": true}}',
            ("a.test", "ok", (None, True, *(None,) * 5)),
        ),
        (b'{"domain": "a.test", "status": "ok", "robots": "odd", "home": [1]}', ("a.test", "ok", (None,) * 7)),
        (b'{"domain": 5, "status": null}', ("", "?", (None,) * 7)),
        (b"{}", ("", "?", (None,) * 7)),
        (b'{"status": "invalid_input", "line": 12}\r\n', ("\0line:12", "invalid_input", (None,) * 7)),
    ],
)
def test_odd_but_json_objects(raw, expected):
    assert read_line(raw) == expected


@pytest.mark.parametrize("raw", [b"", b"[1, 2]", b'"text"', b'{"domain": "cut.test", "sta', b"\xff\xfe"])
def test_not_a_json_object(raw):
    assert read_line(raw) is None


def test_site_key():
    assert site_key("ok", "example.com", 1) == "example.com"
    assert site_key("invalid_input", "", 4) == "\0line:4"
    assert site_key("ok", None, 1) == ""


# -- the projections are items.py's fields --------------------------------------------------------

#: SiteAudit's fields the report reader leaves out on purpose (evidence the reports do not show).
# origin: the site key (read_line reads it for resume and merges; the reports show domain and input)
# The documents of the newer signals (llms.txt, trust.txt, RSL licences, a TDM policy): what they say
# reaches the reports through the verdict's fields; their fetches and evidence stay in audit.jsonl.
NOT_READ = {
    "robots_evidence",
    "page",
    "tdmrep_evidence",
    "aitxt_evidence",
    "origin",
    "llmstxt_evidence",
    "trusttxt_evidence",
    "rsl_evidence",
    "tdm_policy_evidence",
}


def test_every_site_audit_field_is_read_or_left_out_on_purpose():
    # Fails when items.py gains or renames a field: decide whether the reports read it.
    import dataclasses

    from optout_audit import auditfile

    read = {*auditfile.SITE_FIELDS, *auditfile.DOCUMENTS, auditfile.LICENCE_FETCHES, "agents", "other_agents",
            "verdict", "conflicts"}  # fmt: skip
    assert {field.name for field in dataclasses.fields(SiteAudit)} == read | NOT_READ
    assert set(auditfile.Record.__struct_fields__) == read


def test_projection_types_are_the_dataclass_types():
    import dataclasses
    import typing

    from optout_audit import auditfile
    from optout_audit.detect.verdict import DomainVerdict
    from optout_audit.items import AgentResult

    def plain(kind):  # X | None -> X
        args = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return args[0] if typing.get_origin(kind) in (typing.Union, __import__("types").UnionType) else kind

    record = typing.get_type_hints(auditfile.Record)
    items = typing.get_type_hints(SiteAudit)
    for name in auditfile.SITE_FIELDS:
        assert plain(record[name]) == plain(items[name]), name
    for cls, struct in ((AgentResult, typing.get_args(record["agents"])[0]), (DomainVerdict, record["verdict"]),
                        (Fetch, record["robots"])):  # fmt: skip
        declared = typing.get_type_hints(cls)
        mirrored = typing.get_type_hints(struct)
        assert set(mirrored) <= {field.name for field in dataclasses.fields(cls)}, cls
        for name, kind in mirrored.items():
            assert plain(kind) == plain(declared[name]), (cls.__name__, name)


def test_a_renamed_field_cannot_be_projected():
    from optout_audit.auditfile import projection

    with pytest.raises(KeyError, match="SiteAudit has no field robots_status"):
        projection(SiteAudit, ["domain", "robots_status"])


def test_read_chunks_types_odd_values_as_unknown(tmp_path, caplog):
    from optout_audit.auditfile import read_chunks

    good = SiteAudit(input="a.test", line=1, domain="a.test", status="ok").to_dict()
    odd = {
        **good,
        "domain": 5,
        "line": "2",
        "other_agents": None,
        "agents": [None, {"agent": "GPTBot", "named": "yes"}],
    }
    lines = [json.dumps(good), json.dumps(odd), "", "[1]", json.dumps(good)[:40]]
    (tmp_path / "audit.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    chunks = list(read_chunks(tmp_path / "audit.jsonl", chunksize=2))
    assert [len(chunk.records) for chunk in chunks] == [2, 0, 0]
    assert [chunk.first for chunk in chunks] == [0, 2, 2]
    assert [number for chunk in chunks for number, _ in chunk.unreadable] == [4, 5]
    assert "line 5 skipped: not JSON" in caplog.text
    sites, named = chunks[0].sites(), chunks[0].named()
    assert sites["domain"].isna().tolist() == [False, True]
    assert sites["line"].tolist() == [1, pd_na()]
    assert sites["other_verdict"].isna().tolist() == [False, True]  # a null sub-object: every field unknown
    assert named[["record", "agent"]].values.tolist() == [[1, "GPTBot"]]
    assert named["named"].isna().tolist() == [True]


def pd_na():
    import pandas as pd

    return pd.NA


@pytest.mark.parametrize("ending", ["\n", ""])
def test_line_spans_cut_the_file_into_chunks_of_lines(tmp_path, ending):
    from optout_audit.auditfile import line_spans, read_chunks, read_span

    record = json.dumps(SiteAudit(input="a.test", domain="a.test").to_dict())
    lines = [record, "", record, "not json", record, record, record]
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + ending, "utf-8")
    spans = list(line_spans(path, 3))
    assert [span.lines_before for span in spans] == [0, 3, 6]
    assert spans[0].offset == 0 and sum(span.length for span in spans) == path.stat().st_size
    assert [s.offset + s.length for s in spans[:-1]] == [s.offset for s in spans[1:]]  # no gap, no overlap
    chunks = [read_span(path, span, first=span.lines_before) for span in spans]
    assert [(len(chunk.records), chunk.lines, chunk.unreadable) for chunk in chunks] == [
        (2, 3, []), (2, 3, [(4, "not JSON (Expecting value)")]), (1, 1, [])]  # fmt: skip
    assert [chunk.first for chunk in read_chunks(path, 3)] == [0, 2, 4]
