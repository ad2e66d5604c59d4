"""Everything between a fetched page and the published catalog, without the network:
records, typed frames, history and publishing. Each room imports only the rooms below it:

- ``publish``: snapshots, the catalog file and its macros, repair after a crash;
- ``history``: history intervals and the change feed;
- ``build``: a run's page values -> its validated tables;
- ``pages``: page text -> records, the body archive, staging a run, page outcomes;
- ``contract``: every table and column, the vocabularies, the data directory's layout.
"""
