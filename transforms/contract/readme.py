"""The README's data contract block, written from the tables (``make docs``)."""

from __future__ import annotations

from pathlib import Path

from transforms.contract.columns import sql_type
from transforms.contract.tables import TABLES


def contract_markdown() -> str:
    """The data contract as markdown, for the README (``make docs`` writes it there)."""
    parts = []
    for table in TABLES.values():
        key = f" Key: `{', '.join(table.key)}`." if table.key else ""
        parts.append(f"### `{table.name}`\n\n{table.description}{key}\n")
        parts.append("| column | type | meaning |\n| --- | --- | --- |")
        for column in table.columns:
            required = "" if column.nullable else " Never NULL."
            description = column.description.replace("|", "\\|")
            parts.append(f"| `{column.name}` | {sql_type(column.type)} | {description}{required} |")
        parts.append("")
    return "\n".join(parts)


README_START = "<!-- contract:start (make docs writes this block from transforms/contract/) -->"
README_END = "<!-- contract:end -->"


def write_readme_contract(readme: Path) -> None:
    """Replace the README's contract block with ``contract_markdown()``."""
    text = readme.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    block = f"{README_START}\n{contract_markdown()}{README_END}"
    readme.write_text(head + block + tail, encoding="utf-8")
