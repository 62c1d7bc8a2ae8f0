"""Every record the crawler writes fits the one record schema, optout_audit/items.py, field for field.

The demo's local web (every signal, every fault) is crawled for real; each audit.jsonl line is then
decoded strictly into items.SiteAudit: a field the schema does not have, a value of another type
or a status outside the vocabulary fails here.
"""

from __future__ import annotations

import dataclasses
import json

import msgspec
import pytest
from crawling import optout_audit

from optout_audit.items import AGENT_VERDICTS, DOMAIN_VERDICTS, FETCH_STATUSES, SITE_STATUSES, SiteAudit


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("schema") / "run"
    completed = optout_audit("demo", "--out", str(run_dir), timeout=600)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return (run_dir / "audit.jsonl").read_bytes().splitlines()


def _fields(cls) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)}


def test_every_record_decodes_strictly_into_the_schema(records):
    assert len(records) == 30
    decoder = msgspec.json.Decoder(SiteAudit, strict=True)
    for raw in records:
        audit = decoder.decode(raw)
        assert audit.status in SITE_STATUSES
        for fetch in (audit.robots, audit.home, audit.tdmrep, audit.aitxt):
            assert fetch.status in FETCH_STATUSES
        assert all(agent.verdict in AGENT_VERDICTS for agent in [*audit.agents, audit.other_agents])
        assert audit.verdict["reserves_ai_training"] in DOMAIN_VERDICTS


def test_records_hold_no_field_the_schema_lacks(records):
    for raw in records:
        record = json.loads(raw)
        assert set(record) == _fields(SiteAudit)
        for name in ("robots", "home", "tdmrep", "aitxt"):
            assert set(record[name]) == _fields(type(SiteAudit.__dataclass_fields__[name].default_factory()))
        assert set(record["page"]) == _fields(type(SiteAudit.__dataclass_fields__["page"].default_factory()))
