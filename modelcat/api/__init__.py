"""The Python API: the published catalog from a notebook or a script.

- ``catalog``: ``open`` (a read-only DuckDB connection) and ``read`` (a table, or a table as
  it stood at a time, as a pandas DataFrame in exact types);
- ``cost``: ``cost`` and ``rank_costs``, what a request or a month of them costs, through
  the catalog's own cost macros.

Importing it loads DuckDB only: no Scrapy, and pandas when a table is read.
"""

from modelcat.api.catalog import BeforeHistory, CatalogNotFound, open, read
from modelcat.api.cost import Cost, UnknownModel, cost, rank_costs
from modelcat.api.usage import cost_from_response

__all__ = [
    "BeforeHistory",
    "CatalogNotFound",
    "Cost",
    "UnknownModel",
    "cost",
    "cost_from_response",
    "open",
    "rank_costs",
    "read",
]
