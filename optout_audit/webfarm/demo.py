"""The demo web: made-up sites that between them show every opt-out signal and the usual faults.

``python -m optout_audit.webfarm serve --sites demo`` serves it; ``demo_input_lines()`` is the
URL list the demo crawl starts from. Every site below is one function whose docstring says
what it shows and how a correct audit reads it; the same reading is machine-readable in
:func:`demo_expectations`, in the vocabulary of ``optout_audit.items`` / README "Verdict semantics":

==========================  ==================================================  ======================
host                        shows                                               reserves_ai_training
==========================  ==================================================  ======================
gptbot-blocker.example      ``User-agent: GPTBot`` / ``Disallow: /``            yes
ai-robots-list.example      the ai.robots.txt block list (166 agents)           yes
wildcard-block.example      ``User-agent: *`` / ``Disallow: /``; we obey it     yes
partial.example             GPTBot disallowed on ``/private/`` only             partial
noai-meta.example           ``<meta name="robots" content="noai, noimageai">``  yes
noai-header.example         ``X-Robots-Tag: noai``                              yes
tdmrep-file.example         tdmrep.json reserving ``/`` with a policy           yes
tdmrep-partial.example      tdmrep.json reserving ``/articles/`` only           partial
tdm-header.example          ``tdm-reservation: 1`` + ``tdm-policy`` headers     yes
tdm-meta.example            ``<meta name="tdm-reservation" content="1">``       yes
content-signal.example      Cloudflare ``Content-Signal: ai-train=no``          yes
content-usage.example       ``Content-Usage: train-ai=n`` (robots.txt, header)  yes
aitxt.example               Spawning ``/ai.txt`` with ``Disallow: /``           yes
google-only.example         ``User-agent: Google`` (not Google-Extended)        no
open.example                nothing reserved                                    no
xn--bcher-kva.test          bücher.test: IDNA; CCBot disallowed                 yes
redirects.example           robots.txt -> 2 cross-host redirects; CCBot         yes
redirect-loop.example       robots.txt redirect loop (RFC 9309: unavailable)    no
forbidden.example           robots.txt 403 (4xx: no robots.txt)                 no
huge-robots.example         20 MiB robots.txt, GPTBot in its head               yes
bomb.example                gzip / brotli / deflate bombs                       unknown
spa-catchall.example        every path 200 HTML, robots.txt too                 no
server-error.example        robots.txt 503                                      unknown
slow.example                every answer after 30 s                             unknown
dropped.example             every connection dropped mid-body                   unknown
down.example                connection refused                                  unknown
tls-broken.example          TLS handshake fails (HTTP works)                    unknown
no-such-host.example        not in the hosts file (DNS failure)                 unknown
==========================  ==================================================  ======================

Helper hosts served but not in the input: ``www.redirects.example``, ``static.redirects.example``.
Every normal robots.txt and home page has ``ETag`` and ``Last-Modified`` (re-audits get 304).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from optout_audit.webfarm.faults import Drop, Huge, brotli_bomb, deflate_bomb, gzip_bomb
from optout_audit.webfarm.model import Resource, Site, StaticWeb
from optout_audit.webfarm.pages import home_page

DATA = Path(__file__).with_suffix("")  # optout_audit/webfarm/demo/
SLOW_DELAY = 30.0  # seconds: far beyond the 5 s timeout the demo crawl uses
ALLOW_ALL = "User-agent: *\nAllow: /\n\nSitemap: https://{host}/sitemap.xml\n"


@dataclass(frozen=True, slots=True)
class DemoSite:
    """One demo entry: the input host, what it shows, the expected reading, and its sites."""

    host: str
    shows: str
    expect: dict[str, Any]
    build: Callable[[], list[Site]] = field(repr=False)
    input_line: str = ""


_ENTRIES: list[DemoSite] = []

#: The reading of a site that answered and reserves nothing on any page (overridden per site).
_OK = {
    "status": "ok",
    "robots_status": "ok",
    "blocks_all_crawlers": False,
    "noai": False,
    "noimageai": False,
    "tdm_reservation": None,
    "content_signal": "",
    "content_usage": "",
    "home_page_fetched": True,
}
#: The reading of a site that could not be audited.
_UNKNOWN = {
    "reserves_ai_training": "unknown",
    "blocks_all_crawlers": None,
    "noai": None,
    "noimageai": None,
    "tdm_reservation": None,
}


def _demo(
    host: str, input_line: str | None = None, **expect: Any
) -> Callable[[Callable[[], list[Site]]], Callable[[], list[Site]]]:
    """Register a demo site builder with its expected reading."""

    def register(build: Callable[[], list[Site]]) -> Callable[[], list[Site]]:
        shows = " ".join((build.__doc__ or "").split())
        _ENTRIES.append(DemoSite(host, shows, expect, build, input_line or f"https://{host}/"))
        return build

    return register


def _site(
    host: str,
    title: str,
    robots: str | Resource | None,
    *,
    head: str = "",
    home_headers: list[tuple[str, str]] | None = None,
    lang: str = "en",
    extra: dict[str, Resource] | None = None,
    **site_kw: Any,
) -> Site:
    """A normal site: robots.txt (None: 404), a home page with ``head`` meta tags, and ``extra`` paths."""
    resources: dict[str, Resource] = {}
    if isinstance(robots, str):
        resources["/robots.txt"] = Resource.text(robots.format(host=host)).with_validators()
    elif robots is not None:
        resources["/robots.txt"] = robots
    page = home_page(host, title, head_extra=head, lang=lang)
    resources["/"] = Resource.html(page, headers=home_headers or []).with_validators()
    resources.update(extra or {})
    return Site(host, resources, **site_kw)


def _data(name: str) -> str:
    return (DATA / name).read_text("utf-8")


# --- robots.txt ---------------------------------------------------------------------------------


@_demo(
    "gptbot-blocker.example",
    agents={"GPTBot": "full", "ChatGPT-User": "none", "OAI-SearchBot": "none", "ClaudeBot": "none", "CCBot": "none"},
    named={"GPTBot": True, "ClaudeBot": False},
    reserves_ai_training="yes",
    **_OK,
)
def gptbot_blocker() -> list[Site]:
    """robots.txt names GPTBot with ``Disallow: /``; ``User-agent: *`` allows everything else.
    Reading: GPTBot full (named); other agents none; reserves yes (robots.txt); home page fetched.
    The input list holds this site twice (different path and case): one audit only."""
    robots = "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n\nSitemap: https://{host}/sitemap.xml\n"
    return [_site("gptbot-blocker.example", "The GPTBot Blocker Gazette", robots)]


@_demo(
    "ai-robots-list.example",
    agents={
        "GPTBot": "full",
        "ClaudeBot": "full",
        "CCBot": "full",
        "Google-Extended": "full",
        "Applebot-Extended": "full",
        "Bytespider": "full",
        "PerplexityBot": "full",
        "meta-externalagent": "full",
    },
    named={"GPTBot": True, "Google-Extended": True},
    reserves_ai_training="yes",
    **_OK,
)
def ai_robots_list() -> list[Site]:
    """robots.txt is the ai.robots.txt block list (166 agents of the bundled robots.json in one group,
    ``Disallow: /``). Reading: every agent of the list full and named; reserves yes; our own token is
    not listed, so the home page is fetched."""
    robots = Resource.text(_data("ai.robots.txt")).with_validators()
    return [_site("ai-robots-list.example", "AI Robots List Weekly", robots)]


@_demo(
    "wildcard-block.example",
    **{
        **_OK,
        **dict(
            agents={"GPTBot": "full", "CCBot": "full", "ClaudeBot": "full"},
            named={"GPTBot": False},
            blocks_all_crawlers=True,
            reserves_ai_training="yes",
            home_page_fetched=False,
            noai=None,
            noimageai=None,
        ),
    },
)
def wildcard_block() -> list[Site]:
    """robots.txt ``User-agent: *`` / ``Disallow: /``: every crawler is shut out, us included.
    Reading: every agent full via the wildcard (not named); blocks_all_crawlers true; reserves yes;
    the home page is NEVER requested (we obey robots.txt), so noai/noimageai are unknown."""
    return [_site("wildcard-block.example", "Wildcard Block Times", "User-agent: *\nDisallow: /\n")]


@_demo(
    "partial.example",
    agents={"GPTBot": "partial", "CCBot": "none"},
    named={"GPTBot": True},
    reserves_ai_training="partial",
    **_OK,
)
def partial() -> list[Site]:
    """robots.txt disallows GPTBot on ``/private/`` only. Reading: GPTBot partial (named); reserves partial."""
    robots = "User-agent: GPTBot\nDisallow: /private/\n\nUser-agent: *\nAllow: /\n"
    return [_site("partial.example", "Partial Post", robots)]


@_demo(
    "google-only.example",
    agents={"Google-Extended": "none", "GPTBot": "none"},
    named={"Google-Extended": False},
    reserves_ai_training="no",
    **_OK,
)
def google_only() -> list[Site]:
    """robots.txt ``User-agent: Google`` / ``Disallow: /`` only. Product tokens match exactly
    (RFC 9309, Google's parser): the group covers neither Google-Extended nor Googlebot (protego's
    substring match wrongly says Google-Extended is blocked). Reading: Google-Extended none, not
    named; no agent blocked; reserves no."""
    return [_site("google-only.example", "Google Only Courier", "User-agent: Google\nDisallow: /\n")]


@_demo(
    "open.example",
    input_line="open.example",
    agents={"GPTBot": "none", "CCBot": "none"},
    reserves_ai_training="no",
    **_OK,
)
def open_site() -> list[Site]:
    """Nothing reserved anywhere: robots.txt allows all, the home page has an ordinary
    ``robots`` meta (``index, follow``), no tdmrep.json, no ai.txt (both 404). Given as a bare
    domain in the input. Reading: every agent none; noai false; reserves no."""
    head = '  <meta name="robots" content="index, follow, max-image-preview:large">\n'
    return [_site("open.example", "Open Example Daily", ALLOW_ALL, head=head)]


@_demo(
    "xn--bcher-kva.test",
    input_line="https://bücher.test/",
    agents={"CCBot": "full", "GPTBot": "none"},
    named={"CCBot": True},
    reserves_ai_training="yes",
    **_OK,
)
def buecher() -> list[Site]:
    """An internationalised name: the input says ``bücher.test``; the domain is reported and
    served as ``xn--bcher-kva.test``. robots.txt disallows CCBot. Reading: domain
    xn--bcher-kva.test; CCBot full (named); reserves yes."""
    robots = "User-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    return [_site("bücher.test", "Bücherstube am Markt", robots, lang="de")]


# --- page-level signals -------------------------------------------------------------------------


@_demo(
    "noai-meta.example",
    agents={"GPTBot": "none"},
    reserves_ai_training="yes",
    **{**_OK, "noai": True, "noimageai": True},
)
def noai_meta() -> list[Site]:
    """The home page has ``<meta name="robots" content="noai, noimageai">``; robots.txt allows all.
    Reading: noai true, noimageai true; reserves yes."""
    head = '  <meta name="robots" content="noai, noimageai">\n'
    return [_site("noai-meta.example", "NoAI Meta Review", ALLOW_ALL, head=head)]


@_demo(
    "noai-header.example",
    input_line="noai-header.example",
    agents={"GPTBot": "none"},
    reserves_ai_training="yes",
    **{**_OK, "noai": True, "noimageai": False},
)
def noai_header() -> list[Site]:
    """The home page answers with ``X-Robots-Tag: noai`` (header only, no meta tag). Given as a
    bare domain in the input. Reading: noai true, noimageai false; reserves yes."""
    return [_site("noai-header.example", "NoAI Header Herald", ALLOW_ALL, home_headers=[("X-Robots-Tag", "noai")])]


@_demo(
    "tdmrep-file.example",
    reserves_ai_training="yes",
    **{
        **_OK,
        "tdm_reservation": 1,
        "tdm_source": "tdmrep.json",
        "tdm_policy": "https://tdmrep-file.example/tdm/policy.json",
    },
)
def tdmrep_file() -> list[Site]:
    """``/.well-known/tdmrep.json`` reserves ``/`` (the whole site) with a TDM policy, which is
    served too. Reading: tdm_reservation 1 from tdmrep.json, tdm_policy
    https://tdmrep-file.example/tdm/policy.json; reserves yes."""
    tdmrep = [{"location": "/", "tdm-reservation": 1, "tdm-policy": "https://tdmrep-file.example/tdm/policy.json"}]
    extra = {
        "/.well-known/tdmrep.json": Resource.json(tdmrep),
        "/tdm/policy.json": Resource.json(_data("tdm-policy.json"), headers=[("Content-Type", "application/ld+json")]),
    }
    return [_site("tdmrep-file.example", "TDMRep File Press", ALLOW_ALL, extra=extra)]


@_demo("tdmrep-partial.example", reserves_ai_training="partial", **{**_OK, "tdm_reservation": None})
def tdmrep_partial() -> list[Site]:
    """tdmrep.json reserves ``/articles/`` only (and explicitly leaves ``*.jpg`` under it
    unreserved); nothing matches ``/``. Reading: tdm_reservation empty for the site root;
    reserves partial (some locations reserved)."""
    tdmrep = [
        {"location": "/articles/*.jpg", "tdm-reservation": 0},
        {
            "location": "/articles/",
            "tdm-reservation": 1,
            "tdm-policy": "https://tdmrep-partial.example/tdm/policy.json",
        },
    ]
    extra = {"/.well-known/tdmrep.json": Resource.json(tdmrep)}
    return [_site("tdmrep-partial.example", "TDMRep Partial Journal", ALLOW_ALL, extra=extra)]


@_demo(
    "tdm-header.example",
    reserves_ai_training="yes",
    **{**_OK, "tdm_reservation": 1, "tdm_source": "header", "tdm_policy": "https://tdm-header.example/tdm/policy.json"},
)
def tdm_header() -> list[Site]:
    """The home page answers with ``tdm-reservation: 1`` and ``tdm-policy`` headers (TDMRep
    technique 2); no tdmrep.json. Reading: tdm_reservation 1 from the header, tdm_policy
    https://tdm-header.example/tdm/policy.json; reserves yes."""
    headers = [("tdm-reservation", "1"), ("tdm-policy", "https://tdm-header.example/tdm/policy.json")]
    return [_site("tdm-header.example", "TDM Header Bulletin", ALLOW_ALL, home_headers=headers)]


@_demo(
    "tdm-meta.example",
    reserves_ai_training="yes",
    **{**_OK, "tdm_reservation": 1, "tdm_source": "meta", "tdm_policy": "https://tdm-meta.example/tdm/policy.html"},
)
def tdm_meta() -> list[Site]:
    """The home page has ``<meta name="tdm-reservation" content="1">`` and a ``tdm-policy`` meta
    (TDMRep technique 3). Reading: tdm_reservation 1 from the meta tag; reserves yes."""
    head = (
        '  <meta name="tdm-reservation" content="1">\n'
        '  <meta name="tdm-policy" content="https://tdm-meta.example/tdm/policy.html">\n'
    )
    return [_site("tdm-meta.example", "TDM Meta Monthly", ALLOW_ALL, head=head)]


@_demo(
    "content-signal.example",
    agents={"GPTBot": "none", "CCBot": "none"},
    reserves_ai_training="yes",
    **{**_OK, "content_signal": "search=yes, ai-train=no"},
)
def content_signal() -> list[Site]:
    """robots.txt is a Cloudflare-managed block: policy comment, ``User-Agent: *`` /
    ``Content-Signal: search=yes, ai-train=no`` / ``Allow: /``. Reading: content_signal
    ``search=yes, ai-train=no``; every agent none (crawling is allowed); reserves yes."""
    robots = Resource.text(_data("content-signals-robots.txt")).with_validators()
    return [_site("content-signal.example", "Content Signal Chronicle", robots)]


@_demo(
    "content-usage.example",
    agents={"GPTBot": "none"},
    reserves_ai_training="yes",
    **{**_OK, "content_usage": "train-ai=n"},
)
def content_usage() -> list[Site]:
    """IETF aipref: robots.txt has ``Content-Usage: train-ai=n`` in its ``User-Agent: *`` group,
    and the home page answers ``Content-Usage: train-ai=n``. Reading: content_usage train-ai=n;
    every agent none; reserves yes."""
    robots = "User-Agent: *\nAllow: /\nContent-Usage: train-ai=n\n"
    return [
        _site("content-usage.example", "Content Usage Observer", robots, home_headers=[("Content-Usage", "train-ai=n")])
    ]


@_demo("aitxt.example", agents={"GPTBot": "none"}, reserves_ai_training="yes", aitxt_disallows_all=True, **_OK)
def aitxt() -> list[Site]:
    """``/ai.txt`` in Spawning's format: ``User-Agent: *``, file-type rules, ``Disallow: /``;
    robots.txt allows all. Reading: ai.txt disallows everything; reserves yes."""
    extra = {"/ai.txt": Resource.text(_data("spawning-ai.txt"))}
    return [_site("aitxt.example", "AI.txt Almanac", ALLOW_ALL, extra=extra)]


# --- fetch outcomes -----------------------------------------------------------------------------


@_demo(
    "redirects.example",
    agents={"CCBot": "full", "GPTBot": "none"},
    named={"CCBot": True},
    reserves_ai_training="yes",
    robots_redirects=2,
    robots_final_url="https://static.redirects.example/robots/main.txt",
    **_OK,
)
def redirects() -> list[Site]:
    """robots.txt redirects across hosts twice: ``redirects.example`` 301 ->
    ``www.redirects.example`` 302 -> ``static.redirects.example/robots/main.txt``, which
    disallows CCBot. Redirects are followed (RFC 9309, up to 5). Reading: robots_status ok after
    2 redirects; CCBot full (named); reserves yes."""
    robots = "User-agent: CCBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    return [
        _site(
            "redirects.example",
            "Redirects Register",
            Resource.redirect("https://www.redirects.example/robots.txt", 301),
        ),
        Site(
            "www.redirects.example",
            {
                "/robots.txt": Resource.redirect("https://static.redirects.example/robots/main.txt", 302),
                "/": Resource.html(home_page("www.redirects.example", "Redirects Register")),
            },
        ),
        Site("static.redirects.example", {"/robots/main.txt": Resource.text(robots).with_validators()}),
    ]


@_demo(
    "redirect-loop.example",
    agents={"GPTBot": "none", "CCBot": "none"},
    reserves_ai_training="no",
    **{**_OK, "robots_status": "missing"},
)
def redirect_loop() -> list[Site]:
    """robots.txt redirects in a loop (``/robots.txt`` -> ``/robots-a.txt`` -> ``/robots-b.txt``
    -> ``/robots.txt``). More than 5 redirects means "unavailable" (RFC 9309): as for a 4xx,
    crawling is allowed. Reading: robots_status missing; every agent none; reserves no."""
    loop = {
        "/robots.txt": Resource.redirect("/robots-a.txt", 302),
        "/robots-a.txt": Resource.redirect("https://redirect-loop.example/robots-b.txt", 302),
        "/robots-b.txt": Resource.redirect("/robots.txt", 302),
    }
    return [_site("redirect-loop.example", "Redirect Loop Ledger", None, extra=loop)]


@_demo(
    "forbidden.example",
    agents={"GPTBot": "none", "CCBot": "none"},
    reserves_ai_training="no",
    **{**_OK, "robots_status": "missing"},
)
def forbidden() -> list[Site]:
    """robots.txt answers 403 (a bot wall). RFC 9309: any 4xx means no robots.txt, crawl freely.
    Reading: robots_status missing; every agent none (not unknown); reserves no."""
    robots = Resource.html("<!DOCTYPE html><title>Access denied</title><h1>Access denied</h1>\n", status=403)
    return [_site("forbidden.example", "Forbidden Fortnightly", robots)]


@_demo(
    "huge-robots.example",
    agents={"GPTBot": "full", "CCBot": "none"},
    named={"GPTBot": True},
    reserves_ai_training="yes",
    **{**_OK, "robots_status": "too_large"},
)
def huge_robots() -> list[Site]:
    """robots.txt is 20 MiB: a real group (GPTBot ``Disallow: /``, ``*`` allowed) then comment
    padding. A crawler reads its head only (RFC 9309 asks for at least 500 KiB). Reading:
    robots_status too_large; GPTBot full (named), from the head; reserves yes."""
    head = b"User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n\n"
    robots = Resource(200, b"", [("Content-Type", "text/plain")], fault=Huge(mib=20, prefix=head))
    return [_site("huge-robots.example", "Huge Robots Review", robots)]


@_demo(
    "bomb.example",
    agents={"GPTBot": "none"},
    reserves_ai_training="unknown",
    **{**_OK, "noai": None, "noimageai": None},
)
def bomb() -> list[Site]:
    """Compression bombs: the home page is a gzip bomb (256 MiB from 265 KB: under a 1 MiB download
    cap, so only a decompression cap stops it), tdmrep.json a brotli bomb (1 GiB from 809 bytes)
    and ai.txt a deflate bomb (1 GiB from 1 MiB); robots.txt is normal and allows all. Reading:
    status ok; robots ok; every agent none; the three other fetches too_large (or error), so
    noai/noimageai unknown; reserves unknown (nothing read says yes, but the home page, tdmrep.json
    and ai.txt, which could have, were not read: a failure is never "no")."""
    html_head = b"<!DOCTYPE html>\n<html><head><title>Bomb</title></head><body>\n"
    extra = {
        "/.well-known/tdmrep.json": Resource(
            200, b"", [("Content-Type", "application/json")], fault=brotli_bomb(fill=b" ")
        ),
        "/ai.txt": Resource(200, b"", [("Content-Type", "text/plain")], fault=deflate_bomb(fill=b"\n")),
    }
    site = _site("bomb.example", "Bomb Bulletin", ALLOW_ALL, extra=extra)
    site.resources["/"] = Resource(
        200,
        b"",
        [("Content-Type", "text/html; charset=utf-8")],
        fault=gzip_bomb(256 << 20, prefix=html_head, fill=b" "),
    )
    return [site]


@_demo("spa-catchall.example", reserves_ai_training="no", **{**_OK, "robots_status": "invalid"})
def spa_catchall() -> list[Site]:
    """A single-page app answers every path with the same 200 HTML page: robots.txt,
    tdmrep.json and ai.txt included. Reading: robots_status invalid (HTML is not a robots.txt);
    tdmrep.json invalid (not a JSON array); ai.txt not a Spawning file; reserves no."""
    page = Resource.html(
        home_page("spa-catchall.example", "SPA Catch-all", head_extra='  <script src="/app.js"></script>\n')
    )
    return [Site("spa-catchall.example", {}, default=page)]


@_demo(
    "server-error.example",
    agents={"GPTBot": "unknown", "CCBot": "unknown"},
    **{**_OK, **_UNKNOWN, "robots_status": "server_error", "home_page_fetched": False},
)
def server_error() -> list[Site]:
    """robots.txt answers 503 (with ``Retry-After``). RFC 9309: 5xx means complete disallow for us,
    so the home page is NEVER requested; tdmrep.json and ai.txt (404) are still fetched. Reading:
    status ok; robots_status server_error; every agent unknown; reserves unknown."""
    robots = Resource.html(
        "<!DOCTYPE html><title>503</title><h1>Service Unavailable</h1>\n", status=503, headers=[("Retry-After", "3600")]
    )
    return [_site("server-error.example", "Server Error Sentinel", robots)]


@_demo(
    "slow.example",
    status="timeout",
    robots_status="timeout",
    agents={"GPTBot": "unknown"},
    home_page_fetched=False,
    **_UNKNOWN,
)
def slow() -> list[Site]:
    """Every path (robots.txt, home page, unknown paths) answers only after 30 s, far beyond the
    demo's 5 s timeout. Reading: status timeout; robots_status timeout; every agent unknown;
    the home page is not requested (unreachable robots.txt = disallow); reserves unknown."""
    site = _site("slow.example", "Slow Sunday", ALLOW_ALL)
    for resource in site.resources.values():
        resource.delay = SLOW_DELAY
    site.default = Resource.html("<!DOCTYPE html><title>404</title>\n", status=404, delay=SLOW_DELAY)
    return [site]


@_demo(
    "dropped.example",
    status="error",
    robots_status="error",
    fault="connection_dropped",
    agents={"GPTBot": "unknown"},
    **_UNKNOWN,
)
def dropped() -> list[Site]:
    """Every answer announces its full ``Content-Length`` and the connection closes after 100 bytes
    of body (robots.txt, home page, every other path). Reading: status error; robots_status error
    (fault connection_dropped); every agent unknown; reserves unknown."""
    robots = (ALLOW_ALL.format(host="dropped.example") + "# " + "padding " * 200 + "\n").encode()
    page = home_page("dropped.example", "Dropped Dispatch").encode()
    site = Site(
        "dropped.example",
        {
            "/robots.txt": Resource(200, robots, [("Content-Type", "text/plain")], fault=Drop(after=100)),
            "/": Resource(200, page, [("Content-Type", "text/html")], fault=Drop(after=100)),
        },
        default=Resource(
            404,
            b"<!DOCTYPE html><title>404</title>" + b" " * 1000,
            [("Content-Type", "text/html")],
            fault=Drop(after=100),
        ),
    )
    return [site]


@_demo(
    "down.example",
    status="unreachable",
    robots_status="unreachable",
    fault="connection_refused",
    agents={"GPTBot": "unknown"},
    home_page_fetched=False,
    **_UNKNOWN,
)
def down() -> list[Site]:
    """Nothing listens on the host's address: every connection is refused. Reading: status
    unreachable (fault connection_refused); every agent unknown; reserves unknown."""
    return [Site("down.example", network="refused")]


@_demo(
    "tls-broken.example",
    status="unreachable",
    robots_status="unreachable",
    fault="tls_error",
    agents={"GPTBot": "unknown"},
    **_UNKNOWN,
)
def tls_broken() -> list[Site]:
    """Port 443 answers the TLS ClientHello with plain-text garbage (port 80 would serve the
    site). The input is https. Reading: status unreachable (fault tls_error); every agent
    unknown; reserves unknown (unless the crawler falls back to http://, which it should not
    do silently)."""
    return [_site("tls-broken.example", "TLS Broken Tribune", ALLOW_ALL, network="tls_fail")]


@_demo(
    "no-such-host.example",
    status="unreachable",
    robots_status="unreachable",
    fault="dns_error",
    agents={"GPTBot": "unknown"},
    home_page_fetched=False,
    **_UNKNOWN,
)
def no_such_host() -> list[Site]:
    """The name is not in the hosts file: resolution fails. Reading: status unreachable (fault
    dns_error); every agent unknown; reserves unknown."""
    return [Site("no-such-host.example", network="nxdomain")]


# --- public API ---------------------------------------------------------------------------------

#: Input lines that are not sites: the demo report lists them as ``invalid_input``.
INVALID_INPUT_LINES = ("not a url", "ftp://x")
#: A second line for an already listed site (other path, upper case): deduplicated to one audit.
DUPLICATE_INPUT_LINE = "HTTPS://GPTBot-Blocker.example/news/today.html"


def demo_entries() -> list[DemoSite]:
    """Return every demo entry, in input order."""
    return list(_ENTRIES)


@cache
def _all_sites() -> tuple[Site, ...]:
    return tuple(site for entry in _ENTRIES for site in entry.build())


def demo_sites() -> list[Site]:
    """Return every site of the demo web (helper hosts included), freshly built."""
    return [site for entry in _ENTRIES for site in entry.build()]


def demo_web() -> StaticWeb:
    """Return the demo web (built once per process)."""
    return StaticWeb(_all_sites())


def demo_input_lines() -> list[str]:
    """Return the demo's input URL list: one line per demo site, a duplicate, and invalid lines."""
    lines = [entry.input_line for entry in _ENTRIES]
    lines.insert(3, DUPLICATE_INPUT_LINE)
    lines.insert(8, INVALID_INPUT_LINES[0])
    lines.append(INVALID_INPUT_LINES[1])
    return lines


def demo_expectations() -> dict[str, dict[str, Any]]:
    """Return the expected audit reading per demo host (IDNA), in the record's vocabulary.

    Keys are ``domains.csv`` columns (``status``, ``robots_status``, ``reserves_ai_training``,
    ``blocks_all_crawlers``, ``noai``, ``noimageai``, ``tdm_reservation`` (1 or None),
    ``tdm_source``, ``tdm_policy``, ``content_signal``, ``content_usage``) plus: ``agents``
    (agent -> verdict), ``named`` (agent -> named), ``fault``, ``home_page_fetched`` (did the
    farm receive ``GET /`` for that host), ``robots_redirects``, ``robots_final_url`` and
    ``aitxt_disallows_all``. Only keys listed are asserted; a key absent is not determined.
    """
    return {entry.host: dict(entry.expect) for entry in _ENTRIES}


def write_demo_input(path: Path) -> Path:
    """Write :func:`demo_input_lines` to ``path``, one per line."""
    path.write_text("\n".join(demo_input_lines()) + "\n", "utf-8")
    return path


def expectations_json() -> str:
    """Return :func:`demo_expectations` as JSON (for scripts outside Python)."""
    return json.dumps(demo_expectations(), indent=2, ensure_ascii=False)
