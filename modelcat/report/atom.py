"""``changes.xml``: the change feed as an Atom feed (RFC 4287), one entry per change.

An entry's id is a hash of what identifies the change (run, model, provider, region, kind,
field, tier), so it is the same in every rebuild and a feed reader never sees an old change
as new. Links are relative to the feed, which sits beside ``changes.html``.
"""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape, quoteattr

from modelcat.report.read import Catalog, Row
from modelcat.report.text import page_name, percent

CHANGE_KEY = ("run_id", "model_id", "provider", "region", "kind", "field", "tier_label")


def change_id(change: Row) -> str:
    """A change's stable identity, as a URN."""
    key = "\x1f".join("" if change[k] is None else str(change[k]) for k in CHANGE_KEY)
    return "urn:modelcat:change:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def change_title(change: Row) -> str:
    """One line: what changed, where, old -> new."""
    where = " ".join(
        part
        for part in (
            change["model_id"],
            f"at {change['provider']}" if change["provider"] else "",
            f"({change['region']})" if change["region"] else "",
        )
        if part
    )
    what = str(change["kind"]).replace("_", " ")
    if change["field"]:
        tier = f" [{change['tier_label']}]" if change["tier_label"] else ""
        what += f" {change['field']}{tier}"
    if change["old_value"] is not None or change["new_value"] is not None:
        moved = f": {change['old_value'] or '—'} → {change['new_value'] or '—'}"
        diff = percent(change["old_value"], change["new_value"])
        what += moved + (f" ({diff})" if diff else "")
    return f"{where}: {what}"


def feed(catalog: Catalog) -> str:
    """The Atom document (UTF-8 text)."""
    updated = _time(catalog.changes[0]["observed_at"] if catalog.changes else catalog.published_at)
    entries = []
    models = {m["model_id"] for m in catalog.models}
    for change in catalog.changes:
        listed = change["model_id"] in models
        link = f"models/{page_name(change['model_id'])}.html" if listed else "changes.html"
        title = change_title(change)
        entries.append(
            "<entry>"
            f"<id>{change_id(change)}</id>"
            f"<title>{escape(title)}</title>"
            f"<updated>{_time(change['observed_at'])}</updated>"
            f'<link rel="alternate" type="text/html" href={quoteattr(link)}/>'
            f"<category term={quoteattr(str(change['kind']))}/>"
            f'<content type="text">{escape(title)} (run {escape(change["run_id"])})</content>'
            "</entry>\n"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        "<id>urn:modelcat:changes</id>\n"
        "<title>modelcat: changes to the catalog</title>\n"
        f"<updated>{updated}</updated>\n"
        "<author><name>modelcat</name></author>\n"
        '<link rel="self" type="application/atom+xml" href="changes.xml"/>\n'
        '<link rel="alternate" type="text/html" href="changes.html"/>\n'
        + "".join(entries)
        + "</feed>\n"
    )


def _time(moment: object) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # type: ignore[attr-defined]
