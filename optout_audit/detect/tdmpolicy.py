"""TDMRep policies: the ODRL document a ``tdm-policy`` points to, read for what it allows and asks.

Spec: TDMRep CG Final Report (https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/,
"Expressing a TDM Policy") and the best-practice note
https://w3c.github.io/tdm-reservation-protocol/techniques/tdm-policies.html (docs/signals.md).
A policy is an ODRL 2.2 JSON-LD ``Offer`` (``profile`` ``http://www.w3.org/ns/tdmrep``) with an
``assigner`` (vCard contact), ``permission`` entries of action ``tdm:mine`` with an optional
``target``, ``duty`` entries (``obtainConsent``, ``compensate``) and constraints (``purpose`` eq
``tdm:research`` / ``tdm:non-research``, ``spatial`` isPartOf countries). The TDMRep group stresses
that ``tdm-reservation: 1`` means "rights reserved", the terms being in the policy.

The document is capped in size and in nesting depth before anything is read from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["MAX_POLICY_BYTES", "MAX_POLICY_DEPTH", "TdmPolicy", "parse_tdm_policy"]

MAX_POLICY_BYTES = 256 * 1024
MAX_POLICY_DEPTH = 32
_CONTACT_KEYS = ("vcard:hasEmail", "vcard:hasURL", "vcard:hasTelephone", "vcard:fn", "vcard:nickname")


@dataclass(slots=True)
class TdmPolicy:
    """What a TDM policy says. ``valid`` False (with ``error``) means it could not be read."""

    valid: bool
    error: str = ""
    policy_type: str = ""  # "Offer", "Agreement" ...
    uid: str = ""
    tdmrep_profile: bool = False
    permits: list[str] = field(default_factory=list)  # permitted actions, e.g. ["tdm:mine"]
    prohibits: list[str] = field(default_factory=list)
    duties: list[str] = field(default_factory=list)  # e.g. ["compensate", "obtainConsent"]
    constraints: list[str] = field(default_factory=list)  # "purpose eq tdm:research" ...
    contact: dict[str, str] = field(default_factory=dict)  # the assigner's vCard fields


def parse_tdm_policy(body: bytes) -> TdmPolicy:
    """Read a TDM policy body; never raises."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        return TdmPolicy(valid=False, error="not a document")
    if len(body) > MAX_POLICY_BYTES:
        return TdmPolicy(valid=False, error=f"larger than {MAX_POLICY_BYTES} bytes")
    if _nesting(bytes(body)) > MAX_POLICY_DEPTH:
        return TdmPolicy(valid=False, error=f"nested deeper than {MAX_POLICY_DEPTH}")
    try:
        document = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        return TdmPolicy(valid=False, error=f"not JSON ({type(exc).__name__})")
    if not isinstance(document, dict):
        return TdmPolicy(valid=False, error="not a JSON object")
    policy = TdmPolicy(valid=True, policy_type=_text(document.get("@type")), uid=_text(document.get("uid")))
    policy.tdmrep_profile = "http://www.w3.org/ns/tdmrep" in _texts(document.get("profile"))
    for rule in _objects(document.get("permission")):
        policy.permits += _texts(rule.get("action"))
        policy.duties += [action for duty in _objects(rule.get("duty")) for action in _texts(duty.get("action"))]
        policy.constraints += [_constraint(c) for c in _objects(rule.get("constraint"))]
    for rule in _objects(document.get("prohibition")):
        policy.prohibits += _texts(rule.get("action"))
    policy.duties += [action for duty in _objects(document.get("obligation")) for action in _texts(duty.get("action"))]
    for assigner in _objects(document.get("assigner"))[:1]:
        policy.contact = {key: _text(assigner[key]) for key in _CONTACT_KEYS if _text(assigner.get(key))}
    return policy


def _nesting(data: bytes) -> int:
    """The deepest bracket nesting of a JSON text, strings skipped (cheap, before json.loads)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _objects(value: object) -> list[dict]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _texts(value: object) -> list[str]:
    """Strings of a JSON-LD value: a string, an object with ``@id``/``@value``, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [text for item in items if (text := _text(item))]


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()[:300]
    if isinstance(value, dict):
        return _text(value.get("@id") or value.get("@value") or value.get("rdf:value"))
    return ""


def _constraint(constraint: dict) -> str:
    right = ", ".join(_texts(constraint.get("rightOperand")))
    return f"{_text(constraint.get('leftOperand'))} {_text(constraint.get('operator'))} {right}".strip()
