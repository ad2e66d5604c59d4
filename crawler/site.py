"""What the crawl walks: the default start URL and which links it follows.

No Scrapy here: the parent process counts the pages a crawl will fetch with ``follows``
(the progress display), and takes its default start URLs from here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_START_URLS = ("https://www.pipellm.ai/llms.txt",)
FOLLOWED_SUFFIXES = (".md", ".txt")
# The public catalogs a live refresh cross-checks (``--reference`` replaces them).
REFERENCE_URLS = {
    "litellm": "https://raw.githubusercontent.com/BerriAI/litellm/main/"
    "model_prices_and_context_window.json",
    "openrouter": "https://openrouter.ai/api/v1/models",
    "models.dev": "https://models.dev/api.json",
    "genai-prices": "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/data.json",
}


def on_site(url: str, hosts: set[str]) -> bool:
    """Whether ``url`` is on one of the crawl's hosts (host and port)."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and parts.netloc in hosts


def follows(url: str, hosts: set[str]) -> bool:
    """Whether the spider follows a link to ``url``: a markdown or text page on its hosts."""
    return on_site(url, hosts) and urlsplit(url).path.endswith(FOLLOWED_SUFFIXES)
