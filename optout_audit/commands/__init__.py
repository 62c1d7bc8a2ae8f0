"""Scrapy commands of the project (setting ``COMMANDS_MODULE``): ``scrapy crawl optout`` with clear errors."""
