"""The demo, and the loopback server that serves a mirror directory the way the real site
does (the demo, the tests and the bench serve through it).

- ``walkthrough``: ``make demo`` (``python -m modelcat.demo``): refresh the bundled site twice,
  over an edit, and show the history;
- ``mirror``: the loopback server (``python -m modelcat.demo.mirror DIR``);
- ``site/``: the bundled mirror, 189 pages in the real site's format (``DEMO_MIRROR``).
"""

from pathlib import Path

DEMO_MIRROR = Path(__file__).resolve().parent / "site"
