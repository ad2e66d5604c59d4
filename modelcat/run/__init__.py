"""A run: a refresh (``refresh``) or a rebuild (``rebuild``), step by step.

- ``crawl``: Scrapy in a child process, the run staged in this one;
- ``publishing``: the steps after the crawl, build, guard, history, publish;
- ``guards``: what keeps a run that went wrong from replacing a good catalog;
- ``records``: run ids, ``summary.json`` and the ``runs`` table;
- ``recovery``: what a crash or damage left, put right before a run;
- ``retention``: ``--keep N``;
- ``lock``, ``interrupts``: one run per data directory; SIGINT and SIGTERM.
"""
