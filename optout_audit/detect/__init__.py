"""Pure signal detectors: bytes or text in, evidence out. No I/O, no Scrapy.

Every function here must accept any input of its declared type without raising:
the crawler feeds it whatever the web returns.
"""
