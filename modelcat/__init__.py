"""modelcat: a crawled, exact, versioned catalog of LLM models, prices and provider offers.

``modelcat.open(data_dir)`` is a read-only DuckDB connection to the catalog and
``modelcat.read(table, as_of=...)`` a table as a pandas DataFrame (see ``modelcat.api``).
Importing modelcat loads DuckDB only: no Scrapy, and pandas when a table is read.
"""

from modelcat.api import CatalogNotFound, open, read

__version__ = "0.1.0"
__all__ = ["CatalogNotFound", "__version__", "open", "read"]
