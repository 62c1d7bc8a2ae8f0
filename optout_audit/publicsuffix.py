"""Registrable domains from the public suffix list bundled with tldextract (no download at run time)."""

from __future__ import annotations

import tldextract

# suffix_list_urls=() makes tldextract use the snapshot shipped inside the package, never the network.
_extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


def registered_domain(host: str) -> str:
    """``news.bbc.co.uk`` -> ``bbc.co.uk``; hosts under no known suffix (``.example``) are returned whole."""
    return (_extract(host).top_domain_under_public_suffix or host) if host else ""
