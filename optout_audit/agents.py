"""The AI agents every domain is evaluated for: ai.robots.txt's list plus our purpose classes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

PURPOSES = ("training", "search", "user-triggered", "other")
#: Where the bundled list comes from; recorded in every run.
AGENT_LIST_VERSION = "ai.robots.txt@738c80d (2026-08-22)"


@dataclass(frozen=True, slots=True)
class Agent:
    name: str  # the robots.json key, used as the user-agent token
    purpose: str  # one of PURPOSES
    operator: str
    respects_robots: str  # as listed ("Yes", "No", "Unclear at this time." ...)


def _data(name: str):
    return json.loads(resources.files("optout_audit.data").joinpath(name).read_text("utf-8"))


@cache
def ai_agents() -> tuple[Agent, ...]:
    """Every agent of the bundled robots.json, in the file's order."""
    listed = _data("ai-robots-txt/robots.json")
    purposes = _data("purposes.json")["purposes"]
    return tuple(
        Agent(name, purposes.get(name, "other"), entry.get("operator", ""), entry.get("respect", ""))
        for name, entry in listed.items()
    )


@cache
def purpose_of() -> dict[str, str]:
    return {agent.name: agent.purpose for agent in ai_agents()}


def training_agents() -> tuple[Agent, ...]:
    return tuple(agent for agent in ai_agents() if agent.purpose == "training")
