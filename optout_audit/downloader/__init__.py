"""Scrapy download machinery we add: the download handler, the hosts-file resolver, the audit-safe
cache policy, and fetch outcomes (a response or a failure -> an ``items.Fetch``)."""
