"""Publishing, in one place: a run's tables into the data directory, atomically.

- ``snapshot``: every table as Parquet in ``snapshots/PUBLICATION/``, written whole
  (``publish``, ``discard``);
- ``catalog_file``: the DuckDB file written from a snapshot and renamed over
  ``catalog.duckdb`` (the commit), with the tables' meaning as comments and the macros;
- ``asof``, ``cost``: the macros the catalog file carries (as-of and cost);
- ``history_rows``: history files that only append: a run reads the open rows and streams
  the closed ones over (``split``, ``write_history``; ``read_history`` reads one whole);
- ``shared_history``: a superseded snapshot keeps only its open history rows; the
  published one holds the closed ones for all;
- ``repair``: what a crash or damage left, put right from whichever copy survived;
- ``files``: fsync and atomic links.

A crash before the commit leaves the previous catalog in place, whole; readers that hold
the old file open keep reading it. ``current`` is re-pointed after the commit and repaired
on the next run if a crash fell between the two. Importing this package loads nothing:
the cost command reads the macros' vocabulary without pandas.
"""
