"""The page layer: pages as fetched and as written, without Scrapy or the network.

- ``parse``: page text -> ``Page`` (front matter, sections, bullets, tables, links), pure;
- ``items``: ``PageItem``, one per URL a crawl touched, whatever happened to it;
- ``outcome``: every rule that decides a page's outcome;
- ``archive``: every body fetched, by SHA-256, verified when read; the validator store;
- ``log``, ``values``: a run's page log and page values files;
- ``staging``: the ``Stager``, which stages a run as its pages arrive.
"""
