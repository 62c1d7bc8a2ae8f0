"""The public contract (README "Reports"): the columns each report file must have, first and in this order."""

DESIGN_REQUIRED = {
    "domains.csv": ["input", "domain", "status", "robots_status", "reserves_ai_training", "reservation_signals",
                    "blocks_all_crawlers", "noai", "noimageai", "tdm_reservation", "tdm_source", "tdm_policy",
                    "content_signal", "content_usage", "error"],
    "domain_agents.csv": ["domain", "agent", "purpose", "verdict", "named"],
    "agents.csv": ["agent", "purpose", "full", "partial", "none", "unknown", "full_share"],
    "signals.csv": ["signal", "domains", "share"],
    "summary.csv": ["metric", "value"],
    "conflicts.csv": ["domain", "kind", "severity", "agent", "signal", "detail", "line"],
}  # fmt: skip
