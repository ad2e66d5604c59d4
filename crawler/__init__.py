"""The crawl: Scrapy fetching a model gateway's markdown mirror. The only folder that
imports Scrapy (``make lint`` checks it).

- ``spiders/pipellm.py``: the spider, from the llms.txt index to every page it links;
- ``settings``, ``middlewares``: polite defaults, retries with backoff;
- ``pipelines``: each page handed to the refresh process (or staged here, in a plain
  ``scrapy crawl``), and the crawl's stats written;
- ``__main__``: the crawl child process ``modelcat refresh`` starts (``python -I -m crawler``);
- Scrapy-free, for the process that starts the crawl: ``spec`` (the crawl's settings, and
  what ``--set`` may change), ``site`` (which links are followed), ``stats`` (the stats file).

What the crawl fetches is staged by the page layer (``transforms.pages``).
"""
