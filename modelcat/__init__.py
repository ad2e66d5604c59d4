"""modelcat: a crawled, exact, versioned catalog of LLM models, prices and provider offers.

``modelcat.open(data_dir)`` is a read-only DuckDB connection to the catalog and
``modelcat.read(table, as_of=...)`` a table as a pandas DataFrame (see ``modelcat.api``);
``modelcat.cost(model_id, input_tokens, ...)`` what a request costs, exactly, and
``modelcat.rank_costs(...)`` every model and offer ranked by it (see ``modelcat.costs``).
Importing modelcat loads DuckDB only: no Scrapy, and pandas when a table is read.
"""

from modelcat.api import CatalogNotFound, open, read
from modelcat.costs import Cost, UnknownModel, cost, rank_costs

__version__ = "0.1.0"
__all__ = [
    "CatalogNotFound",
    "Cost",
    "UnknownModel",
    "__version__",
    "cost",
    "open",
    "rank_costs",
    "read",
]
