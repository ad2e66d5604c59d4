"""modelcat: a crawled, exact, versioned catalog of LLM models, prices and provider offers.

``modelcat.open(data_dir)`` is a read-only DuckDB connection to the catalog and
``modelcat.read(table, as_of=...)`` a table as a pandas DataFrame;
``modelcat.cost(model_id, input_tokens, ...)`` what a request costs, exactly, and
``modelcat.rank_costs(...)`` every model and offer ranked by it (``modelcat.api``).
Importing modelcat loads DuckDB only: no Scrapy, and pandas when a table is read.

The package's rooms: ``api`` (the Python API), ``cli`` (the command line), ``run`` (a
refresh and a rebuild, step by step) and ``demo`` (the demo and the loopback mirror
server). What they stand on is in ``transforms`` and ``crawler``: see CONTRIBUTING.md.
"""

from modelcat.api import (
    BeforeHistory,
    CatalogNotFound,
    Cost,
    UnknownModel,
    cost,
    cost_from_response,
    open,
    rank_costs,
    read,
)

__version__ = "0.1.0"
__all__ = [
    "BeforeHistory",
    "CatalogNotFound",
    "Cost",
    "UnknownModel",
    "__version__",
    "cost",
    "cost_from_response",
    "open",
    "rank_costs",
    "read",
]
