"""A copy of the demo mirror changed the way the real site changes (prices edited, models
listed and delisted, files touched so that Last-Modified moves), and served slowly."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from modelcat.demo.mirror import MirrorHandler

INPUT_PRICE = re.compile(r"^\| Input Price \| \$([0-9.,]+) \|", re.MULTILINE)


def touch_later(path: Path) -> None:
    """Move a file's mtime clearly past the last fetch: Last-Modified has 1 s resolution."""
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))


def change_input_prices(mirror: Path, count: int) -> dict[str, tuple[Decimal, Decimal]]:
    """Raise the base-tier input price of ``count`` models by $1; returns old and new."""
    changed = {}
    for page in sorted((mirror / "llms" / "models").glob("*.md")):
        text = page.read_text()
        match = INPUT_PRICE.search(text)
        if match is None:
            continue
        old = Decimal(match[1].replace(",", ""))
        new = old + 1
        page.write_text(text[: match.start(1)] + str(new) + text[match.end(1) :])
        touch_later(page)
        changed[page.stem] = (old, new)
        if len(changed) == count:
            return changed
    raise AssertionError("not enough pages with an input price")


def drop_from_index(mirror: Path, model_id: str) -> None:
    index = mirror / "llms.txt"
    lines = [
        line
        for line in index.read_text().splitlines(keepends=True)
        if f"/{model_id}.md" not in line
    ]
    index.write_text("".join(lines))
    touch_later(index)


def add_model(mirror: Path, template_id: str, new_id: str) -> None:
    template = mirror / "llms" / "models" / f"{template_id}.md"
    (mirror / "llms" / "models" / f"{new_id}.md").write_text(
        template.read_text().replace(template_id, new_id)
    )
    index = mirror / "llms.txt"
    index.write_text(index.read_text() + f"- [New](/llms/models/{new_id}.md): new model\n")
    touch_later(index)


def slow_pages(seconds: float) -> Callable[[MirrorHandler, str], bool]:
    """A ``MirrorServer.faults`` hook: every model page is served ``seconds`` late."""

    def hook(handler: MirrorHandler, path: str) -> bool:
        if path.startswith("/llms/models/"):
            time.sleep(seconds)
        return False  # then serve the page as usual

    return hook
