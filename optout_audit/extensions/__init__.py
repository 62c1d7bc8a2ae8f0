"""Scrapy extensions and plug-ins of the crawl: progress, collector tuning, the audit.jsonl exporter,
the log formatter, and the add-on that gives scheduled (scrapyd) jobs a run folder."""
