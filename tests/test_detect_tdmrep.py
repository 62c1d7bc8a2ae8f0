"""TDMRep: tdmrep.json, value rules and processing priority (docs/signals.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optout_audit.detect.tdmrep import (
    TdmrepFile,
    effective_tdm,
    parse_tdmrep,
    tdm_value,
    tdmrep_reserves_somewhere,
)

TDMREP = Path(__file__).parent / "fixtures" / "tdmrep"


def load(name: str) -> TdmrepFile:
    return parse_tdmrep((TDMREP / name).read_bytes())


# -- real files and spec examples -----------------------------------------------------------------

SITE_WIDE = [
    # (file, expected policy for "/") -- readings from tests/fixtures/tdmrep/SOURCE.md
    ("w3c-example-1-site-wide.tdmrep.json", None),
    ("itcop.org.tdmrep.json", "https://itcop.org/licence/0pn-mrt-1.0.json"),
    ("nineplus.sh.tdmrep.json", "https://www.nineplus.sh/legal/tdm.json"),
    ("debats.co.tdmrep.json", "https://debats.co/mentions-legales"),
    ("cofob.dev.tdmrep.json", None),
    ("repo-RogerPielkeJr-scenarios.tdmrep.json", "https://thehonestbroker.org/terms/"),
    ("repo-Thibault-Santonja-licence-photos.tdmrep.json", "https://licence.thibaultsan.com/"),
    ("repo-djibe-recommandations-medicales.tdmrep.json", None),
    ("repo-schklom-Mirror-workflows.tdmrep.json", None),
    ("repo-healsdata-ai-training-opt-out.tdmrep.json", None),
]


@pytest.mark.parametrize(("name", "policy"), SITE_WIDE)
def test_real_site_wide_reservations(name: str, policy: str | None) -> None:
    file = load(name)
    assert file.valid and len(file.rules) == 1
    for path in ("/", "/any/deep/page.html", "/?q=1"):
        result = effective_tdm(file, None, None, None, None, path)
        assert (result.reservation, result.source, result.policy, result.rule_index) == (1, "tdmrep.json", policy, 0)
        assert result.invalid == []
    assert tdmrep_reserves_somewhere(file)


def test_xlr8harder_explicitly_not_reserved() -> None:
    file = load("xlr8harder.github.io.tdmrep.json")
    assert file.valid
    result = effective_tdm(file, None, None, None, None, "/")
    assert (result.reservation, result.source, result.rule_index) == (0, "tdmrep.json", 0)
    assert not tdmrep_reserves_somewhere(file)


def test_janpetrlik_bare_object_is_invalid() -> None:
    file = load("janpetrlik.com.tdmrep.json")
    assert not file.valid
    assert file.error == "not a JSON array"
    assert file.match("/") is None
    result = effective_tdm(file, None, None, None, None)
    assert (result.reservation, result.source, result.invalid) == (None, "", ["tdmrep.json"])
    assert not tdmrep_reserves_somewhere(file)


@pytest.mark.parametrize(
    ("path", "reservation", "rule_index", "policy"),
    [
        ("/directory-b/images/x.jpg", 0, 2, None),
        ("/directory-a/x", 1, 0, None),
        ("/directory-a/", 1, 0, None),
        ("/directory-b/html/page.html", 1, 1, "https://provider.com/policies/policy.json"),
        ("/", None, None, None),
        ("/directory-a", None, None, None),  # no trailing slash: no match
        ("/Directory-A/x", None, None, None),  # case-sensitive
        ("/directory-b/images/x.png", None, None, None),
        ("/directory-b/images/sub/x.jpg?size=2", 0, 2, None),  # "*" crosses "/", no "$"
        ("https://provider.com/directory-a/x", 1, 0, None),  # a URL is reduced to its path
    ],
)
def test_w3c_example_2_three_locations(
    path: str, reservation: int | None, rule_index: int | None, policy: str | None
) -> None:
    file = load("w3c-example-2-three-locations.tdmrep.json")
    result = effective_tdm(file, None, None, None, None, path)
    assert (result.reservation, result.rule_index, result.policy) == (reservation, rule_index, policy)
    assert result.source == ("tdmrep.json" if reservation is not None else "")


def test_w3c_example_2_reserves_somewhere_but_not_root() -> None:
    file = load("w3c-example-2-three-locations.tdmrep.json")
    assert file.match("/") is None
    assert tdmrep_reserves_somewhere(file)


# -- value rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # strings: header and meta values
        ("1", 1), ("0", 0), (" 1 ", 1), ("\t0\n", 0),
        ("", None), ("2", None), ("01", None), ("1.0", None), ("true", None), ("yes", None), ("-1", None), ("１", None),
        # JSON values: only the integers 0 and 1
        (1, 1), (0, 0),
        (True, None), (False, None), (1.0, None), (0.0, None), (2, None), (-1, None), (None, None), ([1], None), ({"v": 1}, None),
    ],
)  # fmt: skip
def test_tdm_value(raw: object, expected: int | None) -> None:
    value = tdm_value(raw)
    assert value == expected and type(value) is type(expected)


# -- parse_tdmrep ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "not JSON (line 1: Expecting value)"),
        (b"<!doctype html><html><body>App</body></html>", "not JSON (line 1: Expecting value)"),  # SPA catch-all 200
        (b'{"location": "/", "tdm-reservation": 1}', "not a JSON array"),
        (b'"[]"', "not a JSON array"),
        (b"null", "not a JSON array"),
        (b"[" * 100_000, "not JSON (RecursionError)"),
        (b"\xff\xfe\xfa", "not JSON (undecodable bytes)"),
        (b"[1" + b"0" * 5000 + b"]", "not JSON (ValueError)"),  # Python's int digit limit
    ],
)
def test_invalid_files(body: bytes, error: str) -> None:
    file = parse_tdmrep(body)
    assert (file.valid, file.error, file.rules) == (False, error, [])


def test_bom_is_tolerated() -> None:
    body = b"\xef\xbb\xbf" + (TDMREP / "cofob.dev.tdmrep.json").read_bytes()
    file = parse_tdmrep(body)
    assert file.valid and file.match("/") is not None


def test_utf16_json_is_read() -> None:
    body = json.dumps([{"location": "/", "tdm-reservation": 1}]).encode("utf-16")
    assert parse_tdmrep(body).match("/x") is not None


def test_empty_array_is_valid_and_reserves_nothing() -> None:
    file = parse_tdmrep(b"[]")
    assert file.valid and file.rules == [] and file.match("/") is None


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"location": "/", "tdm-reservation": 1}, ""),
        ({"location": "/", "tdm-reservation": 0, "tdm-policy": "https://p"}, ""),
        ({"tdm-reservation": 1}, "missing location"),
        ({"location": "", "tdm-reservation": 1}, "missing location"),
        ({"location": 5, "tdm-reservation": 1}, "missing location"),
        ({"location": "/"}, "missing tdm-reservation"),
        ({"location": "/", "tdm-reservation": True}, "invalid tdm-reservation true"),
        ({"location": "/", "tdm-reservation": "1"}, 'invalid tdm-reservation "1"'),
        ({"location": "/", "tdm-reservation": 1.0}, "invalid tdm-reservation 1.0"),
        ({"location": "/", "tdm-reservation": None}, "invalid tdm-reservation null"),
        ({"location": "/", "tdm-reservation": [1]}, "invalid tdm-reservation array"),
        ("/", "not an object"),
        ([{"location": "/"}], "not an object"),
    ],
)
def test_rule_validation(entry: object, error: str) -> None:
    file = parse_tdmrep(json.dumps([entry]).encode())
    assert file.valid
    (rule,) = file.rules
    assert (rule.valid, rule.error) == (not error, error)


def test_invalid_rules_are_skipped_in_matching() -> None:
    body = json.dumps(
        [
            {"location": "/", "tdm-reservation": True},  # protocol error: skipped
            {"location": "/", "tdm-reservation": 0},
        ]
    ).encode()
    file = parse_tdmrep(body)
    rule = file.match("/")
    assert rule is not None and (rule.index, rule.reservation) == (1, 0)
    result = effective_tdm(file, None, None, None, None)
    assert (result.reservation, result.rule_index, result.invalid) == (0, 1, ["tdmrep.json"])


def test_array_order_decides_not_pattern_length() -> None:
    file = parse_tdmrep(
        json.dumps(
            [
                {"location": "/", "tdm-reservation": 1},
                {"location": "/free/very/specific/", "tdm-reservation": 0},
            ]
        ).encode()
    )
    rule = file.match("/free/very/specific/page")
    assert rule is not None and rule.index == 0 and rule.reservation == 1


@pytest.mark.parametrize(
    ("location", "path", "matches"),
    [
        ("/", "/", True),
        ("/fish", "/fish.html", True),
        ("/fish", "/Fish", False),
        ("/fish$", "/fish", True),
        ("/fish$", "/fish/", False),
        ("/*.php$", "/folder/filename.php", True),
        ("/*.php$", "/filename.php?parameters", False),
        ("/fish*.php", "/fishheads/catfish.php?parameters", True),
        ("*.jpg", "/a/b.jpg", True),
        ("/a%24b", "/a%24b", True),  # escaped "$" is a literal
        ("/ツ", "/%E3%83%84", True),  # non-ASCII is percent-encoded on both sides
        ("/%e3%83%84", "/ツ", True),  # escapes compare upper-cased
    ],
)
def test_location_matching_follows_robots_txt(location: str, path: str, matches: bool) -> None:
    file = parse_tdmrep(json.dumps([{"location": location, "tdm-reservation": 1}]).encode())
    assert (file.match(path) is not None) is matches


# -- processing priority (SIGNALS 3.6) ------------------------------------------------------------

RESERVED_FILE = parse_tdmrep(b'[{"location": "/", "tdm-reservation": 1, "tdm-policy": "https://file/p.json"}]')
FREE_FILE = parse_tdmrep(b'[{"location": "/", "tdm-reservation": 0}]')


@pytest.mark.parametrize(
    ("file", "header", "header_policy", "meta", "meta_policy", "expected", "invalid"),
    [
        # nothing at all
        (None, None, None, None, None, (None, "", None), []),
        # each technique alone
        (RESERVED_FILE, None, None, None, None, (1, "tdmrep.json", "https://file/p.json"), []),
        (None, "1", "https://h/p.json", None, None, (1, "header", "https://h/p.json"), []),
        (None, None, None, "1", "https://m/p.json", (1, "meta", "https://m/p.json"), []),
        # later techniques supersede earlier ones
        (RESERVED_FILE, "0", None, None, None, (0, "header", None), []),
        (FREE_FILE, "1", None, None, None, (1, "header", None), []),
        (RESERVED_FILE, "1", "https://h/p.json", "0", None, (0, "meta", None), []),
        (None, "0", None, "1", None, (1, "meta", None), []),
        # absence never resets; a protocol error neither
        (RESERVED_FILE, None, "https://h/p.json", None, None, (1, "tdmrep.json", "https://file/p.json"), []),
        (RESERVED_FILE, "yes", None, None, None, (1, "tdmrep.json", "https://file/p.json"), ["header"]),
        (None, "1", None, "", None, (1, "header", None), ["meta"]),
        (None, "2", None, "true", None, (None, "", None), ["header", "meta"]),
        # each property is superseded on its own: a header without tdm-policy keeps the file's policy;
        # a policy is dropped when the reservation is 0
        (RESERVED_FILE, "1", None, None, None, (1, "header", "https://file/p.json"), []),
        (None, "0", "https://h/p.json", None, None, (0, "header", None), []),
        (None, " 1 ", "  ", None, None, (1, "header", None), []),
        # header values are stripped strings
        (None, " 1\r\n", " https://h/p.json ", None, None, (1, "header", "https://h/p.json"), []),
    ],
)
def test_processing_priority(
    file: TdmrepFile | None,
    header: str | None,
    header_policy: str | None,
    meta: str | None,
    meta_policy: str | None,
    expected: tuple[int | None, str, str | None],
    invalid: list[str],
) -> None:
    result = effective_tdm(file, header, header_policy, meta, meta_policy)
    assert (result.reservation, result.source, result.policy) == expected
    assert result.invalid == invalid
    assert result.rule_index == (0 if result.source == "tdmrep.json" else None)


def test_header_supersedes_file_for_a_path_the_file_does_not_cover() -> None:
    file = load("w3c-example-2-three-locations.tdmrep.json")
    result = effective_tdm(file, "1", None, None, None, "/")
    assert (result.reservation, result.source) == (1, "header")


def test_invalid_file_with_valid_meta() -> None:
    result = effective_tdm(load("janpetrlik.com.tdmrep.json"), None, None, "1", None)
    assert (result.reservation, result.source, result.invalid) == (1, "meta", ["tdmrep.json"])


def test_w3c_meta_and_header_examples_read_together() -> None:
    # Values as detect.headers / detect.html return them for the W3C examples.
    result = effective_tdm(None, "1", None, "1", "https://provider.com/policies/policy.json")
    assert (result.reservation, result.source, result.policy) == (
        1,
        "meta",
        "https://provider.com/policies/policy.json",
    )


def test_reserves_somewhere() -> None:
    assert not tdmrep_reserves_somewhere(None)
    assert not tdmrep_reserves_somewhere(parse_tdmrep(b"[]"))
    assert not tdmrep_reserves_somewhere(parse_tdmrep(b'[{"location": "/", "tdm-reservation": true}]'))
    assert tdmrep_reserves_somewhere(parse_tdmrep(b'[{"location": "/x/", "tdm-reservation": 1}]'))
