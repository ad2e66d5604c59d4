"""The public catalogs a run cross-checks the pages against: parse each format
(``parse``), link entries to our models (``match``), the reference tables and
discrepancies (``tables``), the fetch log of a run (``log``, ``items``)."""
