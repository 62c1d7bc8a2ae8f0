"""Scrapy settings for optout-audit. The CLI overrides a few per run (FEEDS, timeout, concurrency)."""

import importlib.util

from optout_audit import USER_AGENT

BOT_NAME = "optout_audit"
SPIDER_MODULES = ["optout_audit.spiders"]
NEWSPIDER_MODULE = "optout_audit.spiders"
# `scrapy crawl optout` checks -a input=FILE before the crawl starts (optout_audit/commands/crawl.py).
COMMANDS_MODULE = "optout_audit.commands"

# Our own identity, never Scrapy's default: "Scrapy" is itself on the ai.robots.txt list.
USER_AGENT = USER_AGENT
# We read robots.txt ourselves (raw bytes, status, redirects) and obey it for our own token in the
# spider; the middleware would fetch it a second time and parse 5xx pages as rules.
ROBOTSTXT_OBEY = False

DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 4 * 1024 * 1024  # HTML cap; also bounds decompressed size (bombs are refused)
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 5  # RFC 9309 2.3.1.2
RETRY_ENABLED = False  # one honest try per document; a failure is reported, not hidden
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REFERRER_POLICY = "no-referrer"  # we never tell a site where we came from

CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 1  # a site's documents are fetched one after another anyway
# Scrapy's default of 100 spawns that many tasks per callback output; we yield one item or request.
CONCURRENT_ITEMS = 1
# Per-request byte and status counts in Scrapy's stats cost 4% of the crawl's CPU; every fetch's
# status, size and fault is in audit.jsonl anyway.
DOWNLOADER_STATS = False
# Our callbacks are not generators; Scrapy's check still runs per response.
WARN_ON_GENERATOR_RETURN_VALUE = False
# uvloop's event loop under Twisted's asyncio reactor where it is installed (not on Windows):
# its transports and TLS are compiled, a third of the auditor's CPU is moving bytes.
ASYNCIO_EVENT_LOOP = "uvloop.Loop" if importlib.util.find_spec("uvloop") else None
# --hosts-file: names resolve through this hosts(5) file only, in the download handler
# (optout_audit/downloader/handler.py) and in Twisted's resolver for anyone who sets Scrapy's own handler back.
HOSTS_FILE = None
TWISTED_DNS_RESOLVER = "optout_audit.downloader.resolver.HostsFileResolver"
# Without a hosts file, names resolve through c-ares (optout_audit/downloader/dns.py, docs/network.md):
# --dns-server ADDR[:PORT] (none: /etc/resolv.conf), names at once (None: CONCURRENT_REQUESTS), seconds
# for a query's first try and tries, names cached by their TTL (LRU, Scrapy's DNSCACHE_* settings),
# AAAA asked too ("auto": when this machine has a global IPv6 address). DNS_CLIENT = "system": aiohttp's
# threaded getaddrinfo instead.
DNS_CLIENT = "c-ares"
DNS_SERVERS = []
DNS_CONCURRENCY = None
DNS_QUERY_TIMEOUT = 2.0
DNS_TRIES = 2
DNSCACHE_SIZE = 65_536
DNS_IPV6 = "auto"
# Names of the next sites resolved ahead of their first request (optout_audit/downloader/dns_prefetch.py);
# None: 4 x CONCURRENT_REQUESTS (a head start longer than a look-up that times out), 0: off.
DNS_PREFETCH = None
# Only public unicast addresses are connected to (optout_audit/downloader/addresses.py); hosts-file
# addresses are trusted. --allow-private-networks: loopback, private and link-local ones too.
ALLOW_PRIVATE_NETWORKS = False

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "optout_audit.middlewares.NoRefererRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # process_response runs from high to low: this must sit above HttpCompressionMiddleware (590).
    "optout_audit.middlewares.RobotsBodyCapMiddleware": 595,
    # Re-audits (crawl --cache DIR): Scrapy's HTTP cache, always revalidated, never hiding a failure.
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "optout_audit.downloader.cachepolicy.AuditCacheMiddleware": 900,
    # The evidence archive: above the cache, redirects and decompression, it sees every hop as served.
    "optout_audit.archive.middleware.ArchiveMiddleware": 950,
}
# Spider middlewares that only cost time here (README "Performance"): no Referer is ever sent
# (REFERRER_POLICY), URLs are a host and four fixed paths, there is no depth, and every request's
# meta is a new dict.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# Scrapy's HTTP/1.1 handler with one shared TLS context and idle connections closed after 5 s.
DOWNLOAD_HANDLERS = {
    "http": "optout_audit.downloader.handler.AuditDownloadHandler",
    "https": "optout_audit.downloader.handler.AuditDownloadHandler",
}
# Off unless a run asks for it (crawl --cache DIR sets both); see optout_audit/downloader/cachepolicy.py.
HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_POLICY = "optout_audit.downloader.cachepolicy.AuditCachePolicy"
ITEM_PIPELINES = {"optout_audit.pipelines.OneRowPerSitePipeline": 100}
EXTENSIONS = {
    "optout_audit.extensions.progress.Progress": 500,
    "optout_audit.extensions.gctuning.CrawlCollector": 0,
    "optout_audit.downloader.dns_prefetch.DnsPrefetch": 510,
    "scrapy.extensions.remote_control.RemoteControl": None,  # no listening port of ours
}
# Python's collector while the engine runs: start-up frozen, young collections every 50,000
# containers (optout_audit/extensions/gctuning.py; None = Python's defaults).
OPTOUT_GC_THRESHOLDS = (50_000, 20, 20)
LOGSTATS_INTERVAL = 60.0
# Scrapy's per-response and per-item DEBUG messages are not even built unless LOG_LEVEL is DEBUG.
LOG_FORMATTER = "optout_audit.extensions.logformatter.AuditLogFormatter"
LOG_LEVEL = "WARNING"  # quiet: `optout-audit crawl --log-level INFO` shows Scrapy's settings and stats

FEED_EXPORT_ENCODING = "utf-8"
# The same bytes as Scrapy's jsonlines exporter, without its per-object ItemAdapter detours.
FEED_EXPORTERS = {
    "jsonlines": "optout_audit.extensions.exporters.AuditJsonLinesExporter",
    "jsonl": "optout_audit.extensions.exporters.AuditJsonLinesExporter",
    "jl": "optout_audit.extensions.exporters.AuditJsonLinesExporter",
}

# Scheduled jobs (scrapyd): with OPTOUT_RUNS_DIR set, a job writes a whole run folder there
# (audit.jsonl, run.json, the reports), as `optout-audit crawl` does; see optout_audit/extensions/scheduled.py.
OPTOUT_RUNS_DIR = None
ADDONS = {"optout_audit.extensions.scheduled.ScheduledRun": 0}

# The evidence archive (optout_audit/archive/): WARC files in OPTOUT_ARCHIVE_DIR (the CLI sets RUN_DIR/archive;
# none set, none written), rotated past OPTOUT_ARCHIVE_MAX_BYTES; a home page kept to OPTOUT_ARCHIVE_HOME_BYTES
# (what the detectors can read) unless OPTOUT_ARCHIVE_WHOLE_PAGES. `crawl --no-archive` sets OPTOUT_ARCHIVE off.
OPTOUT_ARCHIVE = True
OPTOUT_ARCHIVE_DIR = None
OPTOUT_ARCHIVE_MAX_BYTES = 1024 * 1024 * 1024
OPTOUT_ARCHIVE_HOME_BYTES = 4 * 1024 * 1024
OPTOUT_ARCHIVE_WHOLE_PAGES = False
