"""``modelcat report``: a static site of the published catalog, read-only.

- ``read``: what the pages show, read from the catalog (through ``modelcat.api``) as exact
  text: decimals never pass through a float;
- ``text``: formatting shared by the pages, and the file names of model and provider pages;
- ``svg``: the step charts of prices over time, inline SVG;
- ``atom``: ``changes.xml``, the change feed as an Atom feed;
- ``pages``: every page's HTML, built as strings (``html.escape`` on every value);
- ``build``: the site as files, written beside the target and renamed into place;
- ``assets/``: the hand-written stylesheet and the classic scripts (no modules, no fetch:
  the site works from ``file://``).
"""

from modelcat.report.build import build_report

__all__ = ["build_report"]
