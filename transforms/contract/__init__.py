"""The data contract: every published table, its columns, types, units and meaning, the
vocabularies, and where each file of a data directory lives. Every layer stands on it; it
imports nothing of ours.

This package is the single source of truth. Publishing casts frames to these Arrow types,
validation checks them with pandera (``transforms.build.validation``), the catalog carries
the descriptions as column comments, the Parquet files as field and schema metadata, each
snapshot's ``datapackage.json`` as a Frictionless Table Schema, and a test keeps the
README's data contract in step with it.

- ``vocabulary``: the enums (page outcomes, issue and change kinds, run statuses, steps,
  table names, metrics, exit codes);
- ``columns``: how a table is declared (``Column``, ``Table``), the types and patterns
  columns share;
- ``current_tables``, ``run_tables``, ``history_tables``: each layer's tables, declared;
  ``tables``: all of them (``TABLES``);
- ``casting``: frames to the contract's Arrow types and back, and each type in DuckDB;
- ``layout``: the data directory's files (``DataDir``, ``RunDir``, ``Snapshot``);
- ``datapackage``, ``readme``: the contract as ``datapackage.json`` and as the README's
  block (``python -m transforms.contract``, ``make docs``).

Importing this package loads nothing: ``modelcat sql`` reads the layout without pandas.
"""
