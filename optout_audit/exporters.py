"""``audit.jsonl`` as Scrapy's ``jsonlines`` feed writes it, without its per-object detours (``FEED_EXPORTERS``).

Scrapy's exporter turns a :class:`~optout_audit.items.SiteAudit` into a dict with ``ItemAdapter``
and meets every nested record (``Fetch``, ``AgentResult``, ``PageSignals``) in its JSON encoder's
``default`` hook, where a new ``ItemAdapter`` converts it again: a profile of a 1,500-site crawl
put 5 % of the crawler's CPU there. Records are plain dataclasses of JSON values, so they are
converted here in one pass (fields in declaration order, as ``ItemAdapter`` does) and encoded by
the same encoder: the bytes written are the same. Anything else, or an exporter configured with
``fields_to_export``, goes Scrapy's way.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any

from scrapy.exporters import JsonLinesItemExporter

from optout_audit.items import SiteAudit

__all__ = ["AuditJsonLinesExporter", "plain"]


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def plain(value: Any) -> Any:
    """``value`` with dataclasses turned into dicts and tuples into lists, recursively."""
    if isinstance(value, (str, int, float, type(None))):
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {name: plain(getattr(value, name)) for name in _field_names(type(value))}
    return value  # left to the encoder's default hook, as in Scrapy's exporter


class AuditJsonLinesExporter(JsonLinesItemExporter):
    def export_item(self, item: Any) -> None:
        if type(item) is not SiteAudit or self.fields_to_export is not None:
            super().export_item(item)
            return
        data = self.encoder.encode(plain(item)) + "\n"
        self.file.write(data.encode(self.encoding) if self.encoding else data.encode())
