"""Property tests: no detector raises on any input, and each keeps its invariants.

Inputs are random bytes/text and mutations (bit flips, inserted protocol fragments, cuts,
splices) of the real fixtures in ``tests/fixtures/`` (tdmrep, noai, robots-sample).

Example counts (``max_examples``), chosen so that the whole file runs in well under 60 s on
two cores (15-20 s measured on the development machine, one process):

=====================================  =====
test                                   count
=====================================  =====
test_robots_txt_mutated                  300
test_robots_txt_random_bytes             200
test_robots_txt_text                     150
test_aitxt                               300
test_tdmrep_file                         300
test_tdmrep_json_documents               300
test_tdm_value                           300
test_effective_tdm                       300
test_html_head                           300
test_headers                             300
test_x_robots_directives                 300
test_content_usage                       500
test_robots_content_usage                300
test_content_signal                      300
=====================================  =====
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optout_audit.agents import ai_agents
from optout_audit.detect.aitxt import parse_aitxt
from optout_audit.detect.headers import parse_headers, x_robots_directives
from optout_audit.detect.html import crawler_names, parse_html_head
from optout_audit.detect.preferences import (
    AIPREF_LABELS,
    parse_content_signal,
    parse_content_usage,
    parse_robots_content_usage,
)
from optout_audit.detect.robots import DEEP_PROBE_PATH, RobotsTxt
from optout_audit.detect.tdmrep import TdmrepFile, effective_tdm, parse_tdmrep, tdm_value, tdmrep_reserves_somewhere

AGENT_NAMES = crawler_names(ai_agents())


def read_head(body, encoding=None):
    return parse_html_head(body, encoding, agent_names=AGENT_NAMES)


FIXTURES = Path(__file__).parent / "fixtures"


def _seeds(folder: str, pattern: str = "*") -> list[bytes]:
    files = sorted(p for p in (FIXTURES / folder).glob(pattern) if p.name != "SOURCE.md")
    assert files, f"no fixtures in {folder}"
    return [p.read_bytes() for p in files]


ROBOTS_SEEDS = _seeds("robots-sample")
TDMREP_SEEDS = _seeds("tdmrep", "*.json")
HTML_SEEDS = _seeds("noai", "*.html") + _seeds("tdmrep", "*.html")
HEADER_SEEDS = _seeds("noai", "*.txt") + _seeds("tdmrep", "*.http") + _seeds("tdmrep", "*_headers")

# Fragments that matter to one parser or another, inserted by the mutator.
FRAGMENTS = [
    b"\x00", b"\r", b"\n", b"\r\n", b"#", b"*", b"$", b"%", b"%2A", b"\xef\xbb\xbf", b"\xff\xfe", b"\xff",
    b"User-agent: *\n", b"User-agent: GPTBot\n", b"Disallow: /\n", b"Allow: /\n", b"Disallow: *.jpg\n",
    b"Content-Usage: /x/ train-ai=n\n", b"Content-Signal: ai-train=no\n", b"DisallowAITraining: /\n",
    b"<", b">", b'"', b"'", b"[", b"]", b"{", b"}", b",", b":", b"</head>", b"<body>", b"<head>",
    b'<meta name="robots" content="noai, noimageai">', b"<meta charset=utf-16>", b"<!--",
    b'"tdm-reservation": 1', b'"location": "/*"', b"true", b"-1", b"1e999", b"[[[[", b"\\u0000",
]  # fmt: skip

FUZZ = settings(
    deadline=None,  # parse time varies with machine load; the example count bounds the run
    database=None,  # no example database: runs do not depend on earlier ones
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A real file after up to eight random edits."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "splice", "duplicate"]))
        at = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            index = min(at, len(data) - 1)
            data[index] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(FRAGMENTS) | st.binary(max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(1, 256))]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 128))]
    return bytes(data)


def any_bytes(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    return mutated(seeds) | st.binary(max_size=2048) | st.sampled_from(seeds)


# -- robots.txt (detect/robots.py, used by ai.txt) ---------------------------------------------

AGENTS = ["GPTBot", "Applebot-Extended", "Googlebot", "CCBot", "ChatGPT Agent", "*", "", "unlisted-test-bot"]
URLS = ["https://example.com/", "https://example.com" + DEEP_PROBE_PATH, "/a/b.jpg?x=1", "", "http://[::1", "//x/%zz"]


def check_robots(robots: RobotsTxt, extra_agents: list[str]) -> None:
    """Verdicts agree with can_fetch on the two probed paths."""
    for agent in AGENTS + extra_agents:
        verdict = robots.verdict(agent)
        assert verdict.verdict in ("full", "partial", "none")
        assert verdict.via in ("named", "wildcard", "default")
        assert verdict.named == (verdict.via == "named") == robots.is_named(agent)
        root = robots.can_fetch("https://example.com/", agent)
        deep = robots.can_fetch("https://example.com" + DEEP_PROBE_PATH, agent)
        if verdict.verdict == "full":
            assert not root and not deep and verdict.rule
        elif verdict.verdict == "none":
            assert root and deep
        else:  # partial: a Disallow rule takes effect somewhere, but not on both probes
            assert verdict.rule and (root or deep)
        for url in URLS:
            assert isinstance(robots.can_fetch(url, agent), bool)
    if robots.blocks_all():
        assert robots.verdict("unlisted-test-bot").verdict == "full" or robots.is_named("unlisted-test-bot")


def named_agents(robots: RobotsTxt) -> list[str]:
    return sorted({name for group in robots.groups for name in group.names})[:5]


@settings(FUZZ, max_examples=300)
@given(mutated(ROBOTS_SEEDS))
def test_robots_txt_mutated(body: bytes) -> None:
    robots = RobotsTxt.parse(body)
    check_robots(robots, named_agents(robots))


@settings(FUZZ, max_examples=200)
@given(st.binary(max_size=4096))
def test_robots_txt_random_bytes(body: bytes) -> None:
    robots = RobotsTxt.parse(body)
    check_robots(robots, named_agents(robots))


@settings(FUZZ, max_examples=150)
@given(st.text(max_size=512), st.text(max_size=40))
def test_robots_txt_text(body: str, agent: str) -> None:
    # st.text() never draws lone surrogates; test_robots_txt_str_with_lone_surrogate covers them.
    robots = RobotsTxt.parse(body)
    check_robots(robots, [agent])


def test_robots_txt_str_with_lone_surrogate() -> None:
    robots = RobotsTxt.parse("User-agent: *\nDisallow: /\ud800\n")
    assert robots.can_fetch("https://example.com/\ud800", "x") is False
    assert robots.can_fetch("https://example.com/a", "x") is True


# -- ai.txt ----------------------------------------------------------------------------------


@settings(FUZZ, max_examples=300)
@given(any_bytes(ROBOTS_SEEDS))
def test_aitxt(body: bytes) -> None:
    ai = parse_aitxt(body)
    assert not (ai.disallows_all and ai.partial)
    if not ai.robots_style:
        assert not ai.disallows_all and not ai.partial and ai.disallowed == []
    if ai.disallows_all or ai.partial:
        assert ai.disallowed
    assert all(isinstance(line, str) for line in ai.disallowed)


# -- TDMRep ----------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=True) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
rule_objects = st.fixed_dictionaries(
    {},
    optional={
        "location": st.sampled_from(["/", "/*", "/a/", "*.jpg", "/a$", "", "/%2A"]) | json_values,
        "tdm-reservation": st.sampled_from([0, 1, "1", True, 1.0]) | json_values,
        "tdm-policy": st.just("https://p/x.json") | json_values,
    },
)
PATHS = st.sampled_from(["/", "/a/", "/a/x.jpg", "/a", "/*", "https://e.com/a/?q", "", "x"]) | st.text(max_size=30)


def check_tdmrep(body: bytes, path: str) -> None:
    file = parse_tdmrep(body)
    assert file.valid or (file.error and file.rules == [])
    for rule in file.rules:
        assert rule.reservation in (0, 1, None)
        assert rule.valid == (rule.error == "")
        if rule.valid:
            assert rule.reservation in (0, 1) and rule.location
    rule = file.match(path)
    if rule is not None:  # the first match in array order: no earlier rule matches
        assert rule.valid and file.rules[rule.index] is rule
        assert TdmrepFile(valid=True, rules=file.rules[: rule.index]).match(path) is None
    assert isinstance(tdmrep_reserves_somewhere(file), bool)
    result = effective_tdm(file, None, None, None, None, path)
    assert result.reservation == (rule.reservation if rule else None)


@settings(FUZZ, max_examples=300)
@given(any_bytes(TDMREP_SEEDS), PATHS)
def test_tdmrep_file(body: bytes, path: str) -> None:
    check_tdmrep(body, path)


@settings(FUZZ, max_examples=300)
@given(st.lists(rule_objects | json_values, max_size=5) | json_values, PATHS)
def test_tdmrep_json_documents(document: object, path: str) -> None:
    check_tdmrep(json.dumps(document).encode(), path)


@settings(FUZZ, max_examples=300)
@given(json_values | st.text(max_size=6) | st.sampled_from([" 1", "0\n", True, False, 1.0, 0.0]))
def test_tdm_value(raw: object) -> None:
    value = tdm_value(raw)
    assert value in (0, 1, None)
    assert value is None or type(value) is int


optional_text = st.none() | st.sampled_from(["1", "0", " 1 ", "", "yes", "https://p"]) | st.text(max_size=10)


@settings(FUZZ, max_examples=300)
@given(any_bytes(TDMREP_SEEDS) | st.none(), optional_text, optional_text, optional_text, optional_text, PATHS)
def test_effective_tdm(
    body: bytes | None,
    header: str | None,
    header_policy: str | None,
    meta: str | None,
    meta_policy: str | None,
    path: str,
) -> None:
    file = parse_tdmrep(body) if body is not None else None
    result = effective_tdm(file, header, header_policy, meta, meta_policy, path)
    assert result.reservation in (0, 1, None)
    assert result.source in ("tdmrep.json", "header", "meta", "")
    assert (result.reservation is None) == (result.source == "")
    assert result.policy is None or result.reservation == 1
    assert (result.rule_index is not None) == (result.source == "tdmrep.json")
    assert set(result.invalid) <= {"tdmrep.json", "header", "meta"}
    if meta is not None and tdm_value(meta) is not None:
        assert result.source == "meta"  # a valid meta value always has the last word


# -- HTML head -------------------------------------------------------------------------------

ENCODINGS = st.none() | st.sampled_from(["utf-8", "latin-1", "utf-16", "utf-16-be", "utf-32", "cp1252", "shift_jis", "hex", "idna", "rot13", "", "bogus"]) | st.text(max_size=10)  # fmt: skip


@settings(FUZZ, max_examples=300)
@given(any_bytes(HTML_SEEDS), ENCODINGS)
def test_html_head(body: bytes, encoding: str | None) -> None:
    signals = read_head(body, encoding)
    assert (signals.noai or signals.noimageai) == bool(signals.noai_sources)
    assert all(source.startswith("meta:") for source in signals.noai_sources)
    for entry in signals.meta:
        assert set(entry) == {"name", "content"}
        assert entry["name"] == entry["name"].strip().lower()
    names = [entry["name"] for entry in signals.meta]
    assert (signals.tdm_reservation is not None) == ("tdm-reservation" in names)
    assert (signals.tdm_policy is not None) == ("tdm-policy" in names)


# -- headers and preferences -------------------------------------------------------------------

HEADER_NAMES = st.sampled_from(["X-Robots-Tag", "x-robots-tag", "tdm-reservation", "TDM-Policy", "Content-Usage", "Content-Signal", "Link", "Content-Type"]) | st.text(max_size=12)  # fmt: skip
HEADER_VALUES = st.sampled_from(["noai", "googlebot: noai, noimageai", "unavailable_after: 25 Jun 2010 15:00:00 PST", "train-ai=n", '<https://l>; rel="license"', "1"]) | st.text(max_size=40)  # fmt: skip


def header_pairs_from(body: bytes) -> list[tuple[str, str]]:
    text = body.decode("latin-1")
    return [(name, value) for name, sep, value in (line.partition(":") for line in text.splitlines()) if sep]


@settings(FUZZ, max_examples=300)
@given(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6) | any_bytes(HEADER_SEEDS).map(header_pairs_from))
def test_headers(pairs: list[tuple[str, str]]) -> None:
    signals = parse_headers(pairs)
    assert signals.noai == any("noai" in tokens for tokens in signals.directives.values())
    assert signals.noimageai == any("noimageai" in tokens for tokens in signals.directives.values())
    usage = [value.strip() for name, value in pairs if name.strip().lower() == "content-usage"]
    assert signals.content_usage == (", ".join(usage) if usage else None)
    assert len(signals.x_robots_tag) == sum(name.strip().lower() == "x-robots-tag" for name, _ in pairs)


@settings(FUZZ, max_examples=300)
@given(st.lists(HEADER_VALUES, max_size=4))
def test_x_robots_directives(values: list[str]) -> None:
    for scope, tokens in x_robots_directives(values).items():
        assert scope and scope == scope.lower() and not any(c.isspace() for c in scope)
        for token in tokens:
            assert token and token == token.lower() and not any(c.isspace() or c == "," for c in token)


SF_TEXT = st.text(alphabet='train-ai=searchyn, ;?*()"\\:01.%@\tAIT', max_size=40)
USAGE_VALUES = (
    SF_TEXT
    | st.text(max_size=40)
    | st.sampled_from(["train-ai=n", "Train-AI=n", "ai-train=no", "train-ai=y, train-ai"])
)


@settings(FUZZ, max_examples=500)
@given(USAGE_VALUES)
def test_content_usage(value: str) -> None:
    usage = parse_content_usage(value)
    assert usage.raw == value
    assert set(usage.prefs.values()) <= {"y", "n"}
    assert set(usage.prefs) <= set(AIPREF_LABELS)
    assert not set(usage.unknown_labels) & set(AIPREF_LABELS)
    assert usage.train_ai in ("y", "n", None)
    if not usage.valid:
        assert usage.prefs == {} and usage.unknown_labels == []


@settings(FUZZ, max_examples=300)
@given(
    st.sampled_from(["", "/", "/ai-ok/ ", "  /x\t"]).flatmap(
        lambda prefix: USAGE_VALUES.map(lambda value: prefix + value)
    )
)
def test_robots_content_usage(value: str) -> None:
    path, usage = parse_robots_content_usage(value)
    assert path is None or (path.startswith("/") and not any(c in path for c in " \t"))
    assert set(usage.prefs.values()) <= {"y", "n"}


@settings(FUZZ, max_examples=300)
@given(st.text(alphabet="searchai-tnoyes=, \tUSE", max_size=40) | st.text(max_size=40))
def test_content_signal(value: str) -> None:
    signal = parse_content_signal(value)
    for key, signal_value in signal.signals.items():
        assert key and key == key.strip().lower() and "," not in key and "=" not in key
        assert signal_value == signal_value.strip().lower() and "," not in signal_value
