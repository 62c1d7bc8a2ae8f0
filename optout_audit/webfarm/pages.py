"""Realistic-looking HTML pages for made-up sites: a few KB with the head a real CMS emits.

The signals under test (robots meta, ``tdm-reservation`` meta ...) go in ``head_extra``; the
rest is there so that extractors meet what they meet in the wild: other meta tags that are *not*
signals (``og:``, ``twitter:``, ``robots`` without AI tokens when asked), JSON-LD, inline
scripts and styles, comments, and a body long enough to be read in several chunks.
"""

from __future__ import annotations

import html
import random

_TOPICS = (
    "Harbour authority approves new ferry timetable",
    "Local bakery wins regional bread award",
    "Council debates cycle lanes on the high street",
    "Library extends weekend opening hours",
    "Spring festival draws record crowds",
    "Researchers map the river's oldest bridges",
    "Community garden opens a seed exchange",
    "Night trains return to the coastal line",
    "Museum digitises a century of photographs",
    "School choir heads to national final",
    "Storm damage repaired ahead of schedule",
    "Startups share one renovated warehouse",
    "Volunteers count migrating birds at dawn",
    "Old cinema reopens with a silent film week",
    "Market traders test a reusable-crate scheme",
    "Weather: a dry, bright week ahead",
)
_WORDS = (
    "the",
    "city",
    "said",
    "on",
    "Tuesday",
    "that",
    "plans",
    "for",
    "a",
    "new",
    "service",
    "would",
    "be",
    "published",
    "after",
    "consultation",
    "with",
    "residents",
    "and",
    "local",
    "businesses",
    "while",
    "critics",
    "asked",
    "how",
    "it",
    "will",
    "be",
    "funded",
    "over",
    "the",
    "next",
    "three",
    "years",
)


def home_page(
    host: str,
    title: str,
    *,
    tagline: str = "News, features and notes from a made-up corner of the web.",
    lang: str = "en",
    head_extra: str = "",
    body_note: str = "",
    sections: int = 6,
) -> str:
    """Return a home page of a few KB for ``host``; deterministic per host."""
    rng = random.Random(host)
    t, h = html.escape(title), html.escape(host)
    articles = "\n".join(_teaser(rng, h, i) for i in range(sections))
    note = f'\n    <aside class="site-note"><p>{body_note}</p></aside>' if body_note else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{t}</title>
  <meta name="description" content="{html.escape(tagline)}">
  <meta name="generator" content="MadeUpCMS 4.2">
  <meta property="og:site_name" content="{t}">
  <meta property="og:type" content="website">
  <meta property="og:url" content="https://{h}/">
  <meta name="twitter:card" content="summary_large_image">
{head_extra}  <link rel="canonical" href="https://{h}/">
  <link rel="alternate" type="application/rss+xml" title="{t} feed" href="/feed.xml">
  <link rel="stylesheet" href="/static/site.css">
  <style>body{{font-family:system-ui,sans-serif;margin:0}}.teaser h2{{font-size:1.2rem}}</style>
  <script type="application/ld+json">{{"@context":"https://schema.org","@type":"WebSite","name":"{t}","url":"https://{h}/"}}</script>
  <!-- analytics: disabled on the farm -->
</head>
<body>
  <header class="masthead">
    <a class="logo" href="/">{t}</a>
    <nav><a href="/news/">News</a> <a href="/articles/">Articles</a> <a href="/about/">About</a> <a href="/contact/">Contact</a></nav>
  </header>
  <main>
    <p class="tagline">{html.escape(tagline)}</p>{note}
{articles}
  </main>
  <footer>
    <p>&copy; 2026 {t}. All rights reserved. <a href="/privacy/">Privacy</a> &middot; <a href="/terms/">Terms</a></p>
  </footer>
  <script>document.documentElement.classList.add("js");</script>
</body>
</html>
"""


def _teaser(rng: random.Random, host: str, index: int) -> str:
    topic = rng.choice(_TOPICS)
    words = " ".join(rng.choices(_WORDS, k=rng.randint(35, 60)))
    slug = "-".join(topic.lower().split()[:4]).replace(":", "").replace("'", "")
    return (
        f'    <article class="teaser">\n'
        f'      <h2><a href="/articles/2026/{index + 1:02d}/{slug}.html">{html.escape(topic)}</a></h2>\n'
        f'      <p class="byline">By staff &middot; <time datetime="2026-03-{index + 3:02d}">March {index + 3}, 2026</time></p>\n'
        f"      <p>{words.capitalize()}.</p>\n"
        f"    </article>"
    )
