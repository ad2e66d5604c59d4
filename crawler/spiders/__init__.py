"""Scrapy's spider module: ``pipellm``, the one spider (``scrapy crawl pipellm``)."""
