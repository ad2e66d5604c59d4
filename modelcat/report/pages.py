"""Every page of the site as HTML text: server-rendered, so every number is in the HTML and
the site reads with scripts off; the scripts only sort, filter, compare and calculate.

Pages at the top link with ``href="x.html"``, pages one folder down (``models/``,
``providers/``, ``runs/``) with ``../``: relative links only, so the site opens from
``file://`` or any sub-path of a static host.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby

from modelcat.report import svg
from modelcat.report.read import CACHE_KINDS, KINDS, PRESETS, Catalog, Row
from modelcat.report.text import (
    count,
    day,
    esc,
    number,
    page_name,
    percent,
    shell_word,
    sql_text,
    usd,
    when,
)
from transforms.contract.vocabulary import ServiceTier

NAV = (
    ("index.html", "Overview"),
    ("models.html", "Models"),
    ("providers.html", "Providers"),
    ("changes.html", "Changes"),
    ("cost.html", "Cost"),
    ("compare.html", "Compare"),
    ("quality.html", "Data quality"),
    ("runs.html", "Runs"),
)
CAPABILITIES = (
    ("supports_tool_use", "tools"),
    ("supports_computer_use", "computer use"),
    ("supports_cache_control", "cache control"),
)


@dataclass(frozen=True)
class Page:
    path: str  # relative to the site's root, e.g. models/gpt-4o.html
    html: str


def model_href(model_id: str, up: str = "") -> str:
    return f"{up}models/{page_name(model_id)}.html"


def provider_href(provider: str, up: str = "") -> str:
    return f"{up}providers/{page_name(provider)}.html"


def run_href(run_id: str, up: str = "") -> str:
    return f"{up}runs/{page_name(run_id)}.html"


class Site:
    """The pages of one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.c = catalog
        self.models = {m["model_id"]: m for m in catalog.models}
        self.official: dict[str, list[Row]] = defaultdict(list)
        for row in catalog.official:
            self.official[row["model_id"]].append(row)
        self.offers: dict[str, list[Row]] = defaultdict(list)
        for row in catalog.offers:
            self.offers[row["model_id"]].append(row)
        # Each model's rows, indexed once: a page per model must not scan every row.
        self.history = _by_model(catalog.history)
        self.changes = _by_model(catalog.changes)
        self.issues = _by_model(catalog.issues)
        self.unread = _by_model(catalog.unread)
        self.references = {
            table: _by_model(rows)
            for table, (columns, rows) in catalog.references.items()
            if "model_id" in columns
        }
        self.last_price_change: dict[str, Row] = {}
        for change in catalog.changes:  # newest first
            if change["kind"] == "price_changed":
                self.last_price_change.setdefault(change["model_id"], change)
        self.unread_offer_cells = {
            (u["model_id"], u["provider"], u["region"], u["metric"]) for u in catalog.unread
        }
        self.cli_as_of = "" if catalog.as_of is None else f" --as-of {catalog.as_of.isoformat()}Z"

    # -- the frame every page shares ------------------------------------------------------

    def frame(
        self,
        path: str,
        title: str,
        body: str,
        command: str,
        scripts: Sequence[str] = (),
    ) -> Page:
        up = "../" * path.count("/")
        nav = "".join(
            f'<a href="{up}{href}"'
            + (' aria-current="page"' if href == path else "")
            + f">{esc(label)}</a>"
            for href, label in NAV
        )
        when_shown = (
            ""
            if self.c.as_of is None
            else f", shown as it stood at <time>{when(self.c.as_of)}</time>"
        )
        tags = "".join(f'<script src="{up}assets/{s}"></script>' for s in scripts)
        html = (
            "<!doctype html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark">'
            f"<title>{esc(title)} · modelcat</title>"
            f'<link rel="stylesheet" href="{up}assets/style.css">'
            f'<link rel="alternate" type="application/atom+xml" title="Changes" '
            f'href="{up}changes.xml">'
            "</head>\n<body>"
            '<a class="skip" href="#main">Skip to the content</a>'
            f'<header><nav aria-label="Site">{nav}</nav></header>\n'
            f'<main id="main"><h1>{esc(title)}</h1>\n{body}\n</main>\n'
            '<footer><p>Catalog: run <a href="'
            f'{run_href(self.c.run_id, up)}"><code>{esc(self.c.publication)}</code></a>, '
            f"published <time>{when(self.c.published_at)}</time>{when_shown}.</p>"
            "<details><summary>The same numbers from the command line</summary>"
            f"<pre><code>{esc(command)}</code></pre></details></footer>\n"
            f"{tags}</body></html>\n"
        )
        return Page(path, html)

    def sql(self, query: str) -> str:
        return f"modelcat sql {shell_word(query)}{self.cli_as_of}"

    # -- the pages ---------------------------------------------------------------------------

    def pages(self) -> Iterable[Page]:
        yield self.index()
        yield self.models_page()
        for model in self.c.models:
            yield self.model_page(model)
        yield self.providers_page()
        for provider, offers in self.by_provider().items():
            yield self.provider_page(provider, offers)
        yield self.changes_page()
        yield self.cost_page()
        yield self.compare_page()
        yield self.quality_page()
        yield self.runs_page()
        for run in self.c.runs:
            yield self.run_page(run)

    def by_provider(self) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = defaultdict(list)
        for offer in self.c.offers:
            out[offer["provider"]].append(offer)
        return dict(sorted(out.items()))

    def index(self) -> Page:
        c = self.c
        families = {m["provider_family"] for m in c.models if m["provider_family"]}
        published_issues = [i for i in c.issues if i["run_id"] == c.run_id]
        last_changes = [ch for ch in c.changes if ch["run_id"] == c.run_id]
        facts = (
            ("models", len(c.models), "models.html"),
            ("families", len(families), "models.html"),
            ("official prices", len(c.official), "models.html"),
            ("provider offers", len(c.offers), "providers.html"),
            ("providers", len(self.by_provider()), "providers.html"),
            ("changes in the last run", len(last_changes), "changes.html"),
            ("quality issues in the last run", len(published_issues), "quality.html"),
            ("unread prices", len(c.unread), "quality.html"),
        )
        tiles = "".join(
            f'<li><a href="{href}"><strong>{count(n)}</strong> {esc(label)}</a></li>'
            for label, n, href in facts
        )
        runs = self.runs_table(list(reversed(c.runs))[:5], "")
        changes = (
            self.changes_table(last_changes[:20], "", "last-changes")
            if last_changes
            else "<p>The last run found nothing different.</p>"
        )
        more = (
            f'<p><a href="changes.html">All {count(len(c.changes))} changes</a></p>'
            if len(last_changes) > 20
            else ""
        )
        presets = "".join(
            f"<h3>{esc(title)}</h3>" + self.cost_table(rows, "") for title, rows in c.presets
        )
        body = (
            f'<ul class="tiles">{tiles}</ul>'
            "<h2>Cheapest for a few workloads</h2>"
            "<p>Priced by the catalog's own <code>workload_costs</code> macro, one request "
            "each, among rows whose prompt fits the context window. "
            '<a href="cost.html">Price your own workload</a>.</p>'
            f"{presets}"
            f"<h2>What changed in the last run</h2>{changes}{more}"
            f'<h2>The last runs</h2>{runs}<p><a href="runs.html">All runs</a></p>'
        )
        title, i, o, _ = PRESETS[0]
        command = (
            "modelcat sql 'SELECT count(*) FROM models'\n"
            f"modelcat cost --rank --top 5 --input-tokens {i} --output-tokens {o}"
            f"{self.cli_as_of}  # {title}"
        )
        return self.frame("index.html", "The model catalog", body, command)

    # -- models ------------------------------------------------------------------------------

    def first_tier(self, model_id: str) -> tuple[dict[str, Row], int]:
        rows = self.official.get(model_id, [])
        tiers = sorted(
            {
                (r["tier_min_tokens"] is None, r["tier_min_tokens"] or 0, r["tier_label"])
                for r in rows
            }
        )
        if not tiers:
            return {}, 0
        label = tiers[0][2]
        return {r["metric"]: r for r in rows if r["tier_label"] == label}, len(tiers)

    def models_page(self) -> Page:
        families = sorted({m["provider_family"] for m in self.c.models if m["provider_family"]})
        modalities = sorted(
            {
                x
                for m in self.c.models
                for x in (m["input_modalities"] or []) + (m["output_modalities"] or [])
            }
        )
        rows = []
        for m in self.c.models:
            mid = m["model_id"]
            first, tiers = self.first_tier(mid)
            offers = self.offers.get(mid, [])
            priced = [o for o in offers if o["input_usd_per_mtok"] is not None]
            cheapest = min(
                priced, key=lambda o: (o["input_usd_per_mtok"], o["provider"]), default=None
            )
            caps = [label for col, label in CAPABILITIES if m[col]]
            mods = sorted(set((m["input_modalities"] or []) + (m["output_modalities"] or [])))
            changed = self.last_price_change.get(mid)
            badge = (
                f' <span class="badge" title="{tiers} context tiers">{tiers} tiers</span>'
                if tiers > 1
                else ""
            )
            cells = [
                f'<th scope="row" data-v="{esc(mid)}"><a href="{model_href(mid)}">{esc(mid)}</a>'
                f'<div class="sub">{esc(m["display_name"])}</div></th>',
                f'<td data-v="{esc(m["provider_family"])}">{esc(m["provider_family"])}</td>',
                _num_cell(m["context_window_tokens"]),
                _num_cell(m["max_output_tokens"]),
            ]
            for metric in KINDS:
                row = first.get(metric)
                value = None if row is None else row["usd_per_mtok"]
                cells.append(
                    f'<td class="n" data-v="{number(value)}">{usd(value)}'
                    + (badge if metric == "input" and value is not None else "")
                    + "</td>"
                )
            cells += [
                f'<td data-v="{esc(" ".join(caps))}">{esc(", ".join(caps))}</td>',
                f'<td data-v="{esc(" ".join(mods))}">{esc(", ".join(mods))}</td>',
                f'<td class="n" data-v="{len(offers)}">{len(offers)}</td>',
                (
                    f'<td data-v="{number(cheapest["input_usd_per_mtok"])}">'
                    f'{usd(cheapest["input_usd_per_mtok"])} <span class="sub">'
                    f"{esc(cheapest['provider'])}</span></td>"
                    if cheapest
                    else '<td data-v=""></td>'
                ),
                f'<td data-v="{day(changed["observed_at"]) if changed else ""}">'
                f"{day(changed['observed_at']) if changed else ''}</td>",
            ]
            attrs = (
                f'data-family="{esc(m["provider_family"])}" data-modality="{esc(" ".join(mods))}" '
                f'data-capability="{esc(" ".join(caps))}" '
                f'data-context="{m["context_window_tokens"] if m["context_window_tokens"] is not None else ""}" '
                f'data-price="{number(first["input"]["usd_per_mtok"]) if "input" in first else ""}" '
                f'data-changed="{day(changed["observed_at"]) if changed else ""}" '
                f'data-text="{esc((mid + " " + (m["display_name"] or "")).lower())}"'
            )
            rows.append(f"<tr {attrs}>{''.join(cells)}</tr>")
        headers = (
            ("Model", "text"),
            ("Family", "text"),
            ("Context", "num"),
            ("Max output", "num"),
            ("Input $/M", "num"),
            ("Output $/M", "num"),
            ("Cache read $/M", "num"),
            ("Cache write $/M", "num"),
            ("Capabilities", "text"),
            ("Modalities", "text"),
            ("Offers", "num"),
            ("Cheapest offer (input $/M)", "num"),
            ("Last price change", "text"),
        )
        form = (
            '<form class="filters" data-table="models" role="search">'
            '<label>Search <input type="search" name="text" data-match="contains"></label>'
            + _select("family", "Family", families)
            + _select("modality", "Modality", modalities, match="has")
            + _select("capability", "Capability", [label for _, label in CAPABILITIES], match="has")
            + '<label>Min context <input type="number" min="0" step="1000" name="context" data-match="min" inputmode="numeric"></label>'
            '<label>Max input $/M <input type="text" name="price" data-match="max" inputmode="decimal" pattern="[0-9]*[.]?[0-9]*"></label>'
            '<label>Changed since <input type="date" name="changed" data-match="since"></label>'
            '<button type="reset">Clear</button>'
            '<output class="shown" aria-live="polite"></output>'
            "</form>"
        )
        body = (
            "<p>Every model, with its first context tier's official prices in USD per 1M "
            "tokens (a badge says when there are more tiers). Click a column's header to "
            "sort; the view is kept in the address, so a link shares it.</p>"
            + form
            + _table("models", headers, rows, sortable=True)
        )
        return self.frame(
            "models.html",
            "Models",
            body,
            self.sql(
                "SELECT m.model_id, m.provider_family, m.context_window_tokens, p.metric, "
                "p.tier_label, p.usd_per_mtok FROM models m LEFT JOIN official_prices p "
                "USING (model_id) ORDER BY m.model_id, p.tier_min_tokens, p.metric"
            ),
            ["table.js"],
        )

    def model_link(self, model_id: str, up: str) -> str:
        """A link to the model's page; a model the catalog no longer lists has none."""
        if model_id not in self.models:
            return f'{esc(model_id)} <span class="sub">(delisted)</span>'
        return f'<a href="{model_href(model_id, up)}">{esc(model_id)}</a>'

    def model_page(self, m: Row) -> Page:
        mid = m["model_id"]
        path = model_href(mid)
        up = "../"
        facts = [
            ("Model ID", f"<code>{esc(mid)}</code>"),
            ("Display name", esc(m["display_name"])),
            ("Family", esc(m["provider_family"])),
            ("Release date", esc(m["release_date"] or "unknown")),
            (
                "Context window",
                f"{count(m['context_window_tokens'])} tokens"
                if m["context_window_tokens"] is not None
                else "unknown",
            ),
            (
                "Max output",
                f"{count(m['max_output_tokens'])} tokens"
                if m["max_output_tokens"] is not None
                else "unknown",
            ),
            ("Input modalities", esc(", ".join(m["input_modalities"] or []))),
            ("Output modalities", esc(", ".join(m["output_modalities"] or []))),
        ]
        facts += [(label.capitalize(), _yes_no(m[col])) for col, label in CAPABILITIES]
        source = m["canonical_url"] or m["page_url"]
        facts.append(
            ("Source", f'<a href="{esc(source)}">{esc(source)}</a>' if source else "unknown")
        )
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
        body = [f'<dl class="facts">{dl}</dl>']
        if m["overview"]:
            body.append(f'<p class="overview">{esc(m["overview"])}</p>')
        body.append(
            f'<p><a href="../compare.html#m={esc(_fragment(mid))}">Compare with other models</a></p>'
        )
        body.append("<h2>Official prices</h2>" + self.tier_table(mid))
        unread = self.unread.get(mid, [])
        if unread:
            body.append(
                "<h3>Prices the run could not read</h3>"
                + _table(
                    f"unread-{page_name(mid)}",
                    (
                        ("Provider", ""),
                        ("Region", ""),
                        ("Tier", ""),
                        ("Metric", ""),
                        ("As written", ""),
                    ),
                    [
                        "<tr>"
                        + "".join(
                            f"<td>{esc(u[k])}</td>"
                            for k in ("provider", "region", "tier_label", "metric", "raw_value")
                        )
                        + "</tr>"
                        for u in unread
                    ],
                )
            )
        offers = self.offers.get(mid, [])
        body.append(
            "<h2>Offers</h2>"
            + (
                self.offers_table(offers, up, model_column=False)
                if offers
                else "<p>No provider lists this model.</p>"
            )
        )
        body.append("<h2>Price history</h2>" + self.history_charts(mid))
        changes = self.changes.get(mid, [])
        body.append(
            "<h2>Changes</h2>"
            + (
                self.changes_table(changes, up, "model-changes")
                if changes
                else "<p>No change since it was first seen.</p>"
            )
        )
        issues = [i for i in self.issues.get(mid, []) if i["run_id"] == self.c.run_id]
        body.append(
            "<h2>Quality issues</h2>"
            + (
                self.issues_table(issues, up, "model-issues")
                if issues
                else "<p>None in the published run.</p>"
            )
        )
        for table, by_model in self.references.items():
            columns = self.c.references[table][0]
            mine = by_model.get(mid, [])
            title = table.replace("_", " ").capitalize()
            body.append(
                f"<h2>{esc(title)}</h2>"
                + (
                    _generic_table(f"{table}-{page_name(mid)}", columns, mine)
                    if mine
                    else "<p>None.</p>"
                )
            )
        command = "\n".join(
            (
                self.sql(f"SELECT * FROM models WHERE model_id = {sql_text(mid)}"),
                self.sql(f"SELECT * FROM official_prices WHERE model_id = {sql_text(mid)}"),
                self.sql(f"SELECT * FROM provider_offers WHERE model_id = {sql_text(mid)}"),
                f"modelcat sql {shell_word('SELECT * FROM price_history WHERE model_id = ' + sql_text(mid))}",
            )
        )
        return self.frame(path, m["display_name"] or mid, "\n".join(body), command)

    def tier_table(self, model_id: str) -> str:
        rows = self.official.get(model_id, [])
        if not rows:
            return "<p>The page lists no official prices.</p>"
        tiers = sorted(
            {
                (
                    r["tier_min_tokens"] is None,
                    r["tier_min_tokens"] or 0,
                    r["tier_label"],
                    r["tier_max_tokens"],
                )
                for r in rows
            }
        )
        metrics = sorted({r["metric"] for r in rows}, key=_metric_order)
        cell = {(r["tier_label"], r["metric"]): r for r in rows}
        head = "".join(
            f'<th scope="col">{esc(label)}<div class="sub">{_bounds(lo if not unknown else None, hi)}</div></th>'
            for unknown, lo, label, hi in tiers
        )
        body = []
        for metric in metrics:
            tds = []
            for _, _, label, _ in tiers:
                row = cell.get((label, metric))
                if row is None:
                    tds.append('<td class="n">—</td>')
                elif row["usd_per_mtok"] is None:
                    tds.append('<td class="n unread">unread</td>')
                else:
                    tds.append(f'<td class="n">{usd(row["usd_per_mtok"])}</td>')
            body.append(f'<tr><th scope="row">{esc(metric)}</th>{"".join(tds)}</tr>')
        return (
            '<div class="scroll"><table><caption>USD per 1M tokens, by context tier</caption>'
            f'<thead><tr><th scope="col">Metric</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )

    def history_charts(self, model_id: str) -> str:
        rows = list(self.history.get(model_id, []))
        if not rows:
            return "<p>No price history.</p>"
        out = []

        def group(h: Row) -> tuple[str, str, str]:
            return (h["provider"] or "", h["region"] or "", h["tier_label"] or "")

        rows.sort(key=lambda h: (h["provider"] is not None, group(h), h["tier_min_tokens"] or 0))
        for index, ((provider, region, tier), items) in enumerate(groupby(rows, key=group)):
            items_list = list(items)
            where = f"{provider}" + (f" ({region})" if region else "") if provider else "Official"
            title = f"{where}{', ' + tier if tier else ''}: USD per 1M tokens over time"
            series = []
            for metric, steps in groupby(
                sorted(items_list, key=lambda h: (_metric_order(h["metric"]), h["valid_from"])),
                key=lambda h: h["metric"],
            ):
                series.append(
                    svg.Series(
                        metric,
                        tuple(
                            svg.Step(s["valid_from"], s["valid_to"], s["usd_per_mtok"])
                            for s in steps
                        ),
                    )
                )
            chart = svg.step_chart(f"chart-{index}", title, series, self.c.until)
            table_rows = [
                f'<tr><th scope="row">{esc(s.name)}</th><td class="n">{usd(step.value)}</td>'
                f"<td>{when(step.start)}</td><td>{when(step.end) or 'still held'}</td></tr>"
                for s in series
                for step in s.steps
            ]
            out.append(
                f"<h3>{esc(where)}{esc(', ' + tier if tier else '')}</h3>{chart}"
                + _table(
                    f"history-{index}",
                    (
                        ("Metric", ""),
                        ("USD per 1M", ""),
                        ("From (inclusive)", ""),
                        ("To (exclusive)", ""),
                    ),
                    table_rows,
                    caption=f"The data of the chart: {title}",
                )
            )
        return "".join(out)

    def offers_table(self, offers: list[Row], up: str, *, model_column: bool) -> str:
        headers: list[tuple[str, str]] = (
            [("Model", "text")] if model_column else [("Provider", "text")]
        )
        headers += [("Region", "text"), ("Context", "num"), ("Max output", "num")]
        headers += [(f"{k.replace('_', ' ').capitalize()} $/M", "num") for k in KINDS]
        rows = []
        unread = self.unread_offer_cells
        for o in offers:
            first = (
                f'<th scope="row"><a href="{model_href(o["model_id"], up)}">{esc(o["model_id"])}</a></th>'
                if model_column
                else f'<th scope="row"><a href="{provider_href(o["provider"], up)}">{esc(o["provider"])}</a></th>'
            )
            cells = [
                first,
                f"<td>{esc(o['region'] or '—')}</td>",
                _num_cell(o["context_window_tokens"]),
                _num_cell(o["max_output_tokens"]),
            ]
            for k in KINDS:
                value = o[f"{k}_usd_per_mtok"]
                if value is None and (o["model_id"], o["provider"], o["region"], k) in unread:
                    cells.append('<td class="n unread" data-v="">unread</td>')
                else:
                    cells.append(f'<td class="n" data-v="{number(value)}">{usd(value) or "—"}</td>')
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return _table("offers", headers, rows, sortable=True)

    # -- providers ---------------------------------------------------------------------------

    def providers_page(self) -> Page:
        rows = []
        for provider, offers in self.by_provider().items():
            models = {o["model_id"] for o in offers}
            regions = sorted({o["region"] for o in offers if o["region"]})
            rows.append(
                f'<tr><th scope="row" data-v="{esc(provider)}"><a href="{provider_href(provider)}">{esc(provider)}</a></th>'
                f'<td class="n" data-v="{len(models)}">{len(models)}</td>'
                f'<td class="n" data-v="{len(offers)}">{len(offers)}</td>'
                f'<td data-v="{esc(", ".join(regions))}">{esc(", ".join(regions) or "—")}</td></tr>'
            )
        body = (
            "<p>Who sells which models, from the models' Provider Availability tables.</p>"
            + _table(
                "providers",
                (("Provider", "text"), ("Models", "num"), ("Offers", "num"), ("Regions", "text")),
                rows,
                sortable=True,
            )
        )
        return self.frame(
            "providers.html",
            "Providers",
            body,
            self.sql(
                "SELECT provider, count(DISTINCT model_id) AS models, count(*) AS offers FROM provider_offers GROUP BY provider ORDER BY provider"
            ),
            ["table.js"],
        )

    def provider_page(self, provider: str, offers: list[Row]) -> Page:
        body = (
            f"<p>{len(offers)} offers of {len({o['model_id'] for o in offers})} models.</p>"
            + self.offers_table(offers, "../", model_column=True)
        )
        return self.frame(
            provider_href(provider),
            provider,
            body,
            self.sql(
                f"SELECT * FROM provider_offers WHERE provider = {sql_text(provider)} ORDER BY model_id"
            ),
            ["table.js"],
        )

    # -- changes -----------------------------------------------------------------------------

    def changes_table(self, changes: list[Row], up: str, table_id: str) -> str:
        rows = []
        for ch in changes:
            family = (self.models.get(ch["model_id"]) or {}).get("provider_family") or ""
            diff = percent(ch["old_value"], ch["new_value"])
            rows.append(
                f'<tr data-kind="{esc(ch["kind"])}" data-family="{esc(family)}" data-provider="{esc(ch["provider"] or "official")}">'
                f'<td data-v="{when(ch["observed_at"])}">{when(ch["observed_at"])}</td>'
                f'<td data-v="{esc(ch["kind"])}">{esc(str(ch["kind"]).replace("_", " "))}</td>'
                f'<th scope="row" data-v="{esc(ch["model_id"])}">{self.model_link(ch["model_id"], up)}</th>'
                f'<td data-v="{esc(ch["provider"] or "")}">{esc(ch["provider"] or "official")}{esc(" (" + ch["region"] + ")" if ch["region"] else "")}</td>'
                f'<td data-v="{esc(ch["field"] or "")}">{esc(ch["field"] or "")}{esc(" [" + ch["tier_label"] + "]" if ch["tier_label"] else "")}</td>'
                f'<td data-v="{esc(ch["old_value"] or "")}">{esc(ch["old_value"] if ch["old_value"] is not None else "")}</td>'
                f'<td data-v="{esc(ch["new_value"] or "")}">{esc(ch["new_value"] if ch["new_value"] is not None else "")}</td>'
                f'<td class="n" data-v="{diff}">{diff}</td></tr>'
            )
        headers = (
            ("Seen", "text"),
            ("Kind", "text"),
            ("Model", "text"),
            ("Where", "text"),
            ("What", "text"),
            ("Old", "text"),
            ("New", "text"),
            ("Δ", "text"),
        )
        return _table(table_id, headers, rows, sortable=True)

    def changes_page(self) -> Page:
        c = self.c
        kinds = sorted({str(ch["kind"]) for ch in c.changes})
        families = sorted(
            {
                (self.models.get(ch["model_id"]) or {}).get("provider_family") or ""
                for ch in c.changes
            }
            - {""}
        )
        providers = sorted({ch["provider"] or "official" for ch in c.changes})
        form = (
            '<form class="filters" data-table="changes" role="search">'
            + _select("kind", "Kind", kinds)
            + _select("family", "Family", families)
            + _select("provider", "Provider", providers)
            + '<button type="reset">Clear</button><output class="shown" aria-live="polite"></output></form>'
        )
        body = (
            "<p>What each run found different from the run before, newest first. "
            'Follow it in a feed reader: <a href="changes.xml">changes.xml</a> (Atom).</p>'
            + form
            + self.changes_table(c.changes, "", "changes")
        )
        return self.frame(
            "changes.html",
            "Changes",
            body,
            "modelcat changes" + (self.cli_as_of and f"  # up to{self.cli_as_of[8:]}"),
            ["table.js"],
        )

    # -- cost and compare --------------------------------------------------------------------

    def cost_table(self, rows: list[Row], up: str) -> str:
        out = []
        for r in rows:
            where = r["provider"] or "official"
            if r["region"]:
                where += f" ({r['region']})"
            parts = ", ".join(
                f"{k.replace('_', ' ')} {usd(r[f'{k}_usd'])}" for k in KINDS if r[f"{k}_usd"]
            )
            out.append(
                f'<tr><th scope="row"><a href="{model_href(r["model_id"], up)}">{esc(r["model_id"])}</a></th>'
                f"<td>{esc(where)}</td><td>{esc(r['tier_label'] or '')}</td>"
                f'<td class="n">{usd(r["total_usd"])}</td><td>{esc(parts)}</td></tr>'
            )
        return _table(
            "", (("Model", ""), ("Prices", ""), ("Tier", ""), ("Total", ""), ("Breakdown", "")), out
        )

    def cost_page(self) -> Page:
        families = sorted({m["provider_family"] for m in self.c.models if m["provider_family"]})
        providers = sorted(self.by_provider())
        form = (
            '<form id="workload" class="filters" aria-describedby="cost-help">'
            '<label>Input tokens per request <input name="input" type="number" min="0" step="1" value="2000" required inputmode="numeric"></label>'
            '<label>of which cache reads <input name="cache_read" type="number" min="0" step="1" value="0" inputmode="numeric"></label>'
            '<label>of which cache writes <input name="cache_write" type="number" min="0" step="1" value="0" inputmode="numeric"></label>'
            '<label>Output tokens per request <input name="output" type="number" min="0" step="1" value="500" inputmode="numeric"></label>'
            '<label>Requests per month <input name="requests" type="number" min="0" step="1" value="1" inputmode="numeric"></label>'
            '<label><input name="fit" type="checkbox" checked> must fit the context window</label>'
            + _select("family", "Family", families, name="family")
            # Standard first, so the default: batch, flex and priority prices are compared
            # among themselves, as `modelcat cost --rank --service-tier` does.
            + '<label>Service tier <select name="service_tier">'
            + "".join(f'<option value="{t}">{t}</option>' for t in ServiceTier)
            + '<option value="">every tier</option></select></label>'
            + _select(
                "provider",
                "Prices",
                ["official", *providers],
                name="provider",
                any_label="official and every offer",
            )
            + "</form>"
        )
        body = (
            '<p id="cost-help">What a month of requests costs on every model and offer, '
            "cheapest first, one service tier at a time (standard unless you pick another), "
            "in exact integer arithmetic (prices in units of 10⁻⁹ dollars per 1M tokens) by "
            "the rule of the catalog's <code>workload_costs</code> macro: the prompt counts "
            "every input token, cached ones included; its size picks the official tier; a "
            "cache kind without a price is billed as input; a total that cannot be known "
            "says why, never $0.</p>"
            + form
            + '<p class="error" id="cost-error" role="alert" hidden></p>'
            '<output id="cost-summary" aria-live="polite"></output>'
            '<div class="scroll"><table id="costs" class="data"><caption>Ranked totals for the workload above</caption>'
            '<thead><tr><th scope="col">#</th><th scope="col">Model</th><th scope="col">Prices</th><th scope="col">Tier</th>'
            '<th scope="col">Total USD</th><th scope="col">Breakdown</th><th scope="col">Note</th></tr></thead><tbody></tbody></table></div>'
            "<noscript><p>The calculator needs JavaScript. Without it, the command below "
            "gives the same ranking.</p></noscript>"
        )
        command = (
            "modelcat cost --rank --input-tokens 2000 --output-tokens 500 --requests-per-month 1"
            + self.cli_as_of
            + "\n"
            + 'modelcat sql "FROM workload_costs(2000, output_tokens := 500) ORDER BY total_usd"'
        )
        return self.frame(
            "cost.html", "What will my workload cost?", body, command, ["data.js", "cost.js"]
        )

    def compare_page(self) -> Page:
        options = "".join(f'<option value="{esc(m["model_id"])}"></option>' for m in self.c.models)
        body = (
            "<p>Pick two to five models; the choice is kept in the address "
            "(<code>compare.html#m=first,second</code>), so a link shares it.</p>"
            '<form id="pick" class="filters"><label>Add a model <input name="model" list="model-ids" autocomplete="off"></label>'
            f'<datalist id="model-ids">{options}</datalist><button type="submit">Add</button></form>'
            '<ul id="picked" class="picked"></ul>'
            '<div id="comparison"><noscript><p>Comparing needs JavaScript; each model page has '
            'every number: <a href="models.html">the models</a>.</p></noscript></div>'
        )
        return self.frame(
            "compare.html",
            "Compare models",
            body,
            self.sql("SELECT * FROM official_prices WHERE model_id IN ('a', 'b') ORDER BY ALL"),
            ["data.js", "cost.js", "compare.js"],
        )

    # -- quality and runs ------------------------------------------------------------------

    def issues_table(self, issues: list[Row], up: str, table_id: str) -> str:
        rows = [
            f'<tr data-kind="{esc(i["kind"])}"><td data-v="{esc(i["kind"])}">{esc(i["kind"])}</td>'
            + (
                f'<th scope="row" data-v="{esc(i["model_id"])}"><a href="{model_href(i["model_id"], up)}">{esc(i["model_id"])}</a></th>'
                if i["model_id"] in self.models
                else f'<th scope="row" data-v="{esc(i["model_id"] or "")}">{esc(i["model_id"] or "")}</th>'
            )
            + f'<td data-v="{esc(i["field"] or "")}">{esc(i["field"] or "")}</td>'
            f'<td data-v="{esc(i["raw_value"] or "")}">{esc(i["raw_value"] or "")}</td>'
            f'<td data-v="{esc(i["problem"])}">{esc(i["problem"])}</td></tr>'
            for i in issues
        ]
        return _table(
            table_id,
            (
                ("Kind", "text"),
                ("Model", "text"),
                ("Field", "text"),
                ("As written", "text"),
                ("Problem", "text"),
            ),
            rows,
            sortable=True,
        )

    def quality_page(self) -> Page:
        c = self.c
        bars = [
            (
                r["run_id"],
                sorted((str(k), int(v)) for k, v in (r["quality_issues_by_kind"] or {}).items()),
            )
            for r in c.runs
        ]
        chart = svg.bar_chart("issues-by-run", "Quality issues by kind, per run", bars)
        counts_rows = [
            f'<tr><th scope="row"><a href="{run_href(run_id)}">{esc(run_id)}</a></th>'
            f"<td>{esc(', '.join(f'{n} {k}' for k, n in parts) or 'none')}</td>"
            f'<td class="n">{sum(n for _, n in parts)}</td></tr>'
            for run_id, parts in bars
        ]
        issues = [i for i in c.issues if i["run_id"] == c.run_id]
        kinds = sorted({str(i["kind"]) for i in issues})
        form = (
            '<form class="filters" data-table="issues" role="search">'
            + _select("kind", "Kind", kinds)
            + '<button type="reset">Clear</button><output class="shown" aria-live="polite"></output></form>'
        )
        unread_rows = [
            "<tr>"
            + f'<th scope="row"><a href="{model_href(u["model_id"])}">{esc(u["model_id"])}</a></th>'
            + "".join(
                f"<td>{esc(u[k] or '')}</td>"
                for k in ("provider", "region", "tier_label", "metric", "raw_value")
            )
            + "</tr>"
            for u in c.unread
        ]
        nulls = [
            f'<tr><th scope="row"><code>{esc(t)}.{esc(col)}</code></th><td class="n" data-v="{n}">{count(n)}</td>'
            f'<td class="n" data-v="{total}">{count(total)}</td>'
            f'<td class="n" data-v="{(n * 1000 // total) if total else 0}">{_share(n, total)}</td></tr>'
            for t, col, n, total in c.null_shares
        ]
        body = (
            "<p>What the catalog could not read, said plainly: a value that could not be read "
            "is NULL in its table and a row here, never a guess.</p>"
            f"<h2>Issues per run</h2>{chart}"
            + _table(
                "issue-counts",
                (("Run", ""), ("By kind", ""), ("Total", "")),
                counts_rows,
                caption="The data of the chart",
            )
            + f"<h2>Issues in the published run ({len(issues)})</h2>"
            + (form + self.issues_table(issues, "", "issues") if issues else "<p>None.</p>")
            + f"<h2>Unread prices ({len(c.unread)})</h2>"
            + (
                _table(
                    "unread",
                    (
                        ("Model", ""),
                        ("Provider", ""),
                        ("Region", ""),
                        ("Tier", ""),
                        ("Metric", ""),
                        ("As written", ""),
                    ),
                    unread_rows,
                )
                if unread_rows
                else "<p>Every price cell shown was read.</p>"
            )
            + "<h2>NULL cells per column</h2>"
            + (
                _table(
                    "nulls",
                    (("Column", "text"), ("NULL", "num"), ("Rows", "num"), ("Share", "num")),
                    nulls,
                    sortable=True,
                )
                if nulls
                else "<p>Shown for the current catalog only.</p>"
            )
        )
        command = "modelcat quality\n" + self.sql(
            "SELECT kind, count(*) FROM quality_issues GROUP BY ALL"
        )
        return self.frame("quality.html", "Data quality", body, command, ["table.js"])

    def runs_table(self, runs: list[Row], up: str) -> str:
        rows = [
            f'<tr><th scope="row"><a href="{run_href(r["run_id"], up)}">{esc(r["run_id"])}</a></th>'
            f"<td>{when(r['started_at'])}</td><td>{esc(r['status'])}</td>"
            f'<td class="n">{count(r["pages_seen"])}</td><td class="n">{count(r["models_published"])}</td>'
            f'<td class="n">{sum((r["quality_issues_by_kind"] or {}).values())}</td>'
            f'<td class="n">{sum((r["changes_by_kind"] or {}).values())}</td></tr>'
            for r in runs
        ]
        return _table(
            "",
            (
                ("Run", ""),
                ("Started", ""),
                ("Outcome", ""),
                ("Pages", ""),
                ("Models", ""),
                ("Issues", ""),
                ("Changes", ""),
            ),
            rows,
        )

    def runs_page(self) -> Page:
        body = "<p>Every run, newest first, and what became of it.</p>" + self.runs_table(
            list(reversed(self.c.runs)), ""
        )
        return self.frame(
            "runs.html", "Runs", body, self.sql("SELECT * FROM runs ORDER BY run_id DESC")
        )

    def run_page(self, run: Row) -> Page:
        fields = [
            (k, run[k]) for k in run if k not in ("quality_issues_by_kind", "changes_by_kind")
        ]
        dl = "".join(
            f"<dt>{esc(k)}</dt><dd>{esc(when(v) if k.endswith('_at') else ', '.join(v) if isinstance(v, list) else ('' if v is None else v))}</dd>"
            for k, v in fields
        )
        issues = [i for i in self.c.issues if i["run_id"] == run["run_id"]]
        changes = [ch for ch in self.c.changes if ch["run_id"] == run["run_id"]]
        body = (
            f'<dl class="facts">{dl}</dl>'
            f"<h2>Quality issues ({len(issues)})</h2>"
            + (self.issues_table(issues, "../", "run-issues") if issues else "<p>None.</p>")
            + f"<h2>Changes ({len(changes)})</h2>"
            + (self.changes_table(changes, "../", "run-changes") if changes else "<p>None.</p>")
        )
        return self.frame(
            run_href(run["run_id"]),
            f"Run {run['run_id']}",
            body,
            self.sql(f"SELECT * FROM runs WHERE run_id = {sql_text(run['run_id'])}"),
            ["table.js"],
        )


# -- small pieces -------------------------------------------------------------------------


def _table(
    table_id: str,
    headers: Sequence[tuple[str, str]],
    rows: list[str],
    *,
    sortable: bool = False,
    caption: str = "",
) -> str:
    ident = f' id="{table_id}"' if table_id else ""
    heads = "".join(
        f'<th scope="col" data-type="{kind}"><button type="button">{esc(label)}</button></th>'
        if sortable
        else f'<th scope="col">{esc(label)}</th>'
        for label, kind in headers
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    cls = "data sortable" if sortable else "data"
    return (
        f'<div class="scroll"><table{ident} class="{cls}">{cap}<thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _generic_table(table_id: str, columns: list[str], rows: list[Row]) -> str:
    body = [
        "<tr>" + "".join(f"<td>{esc(_plain(r[c]))}</td>" for c in columns) + "</tr>" for r in rows
    ]
    return _table(table_id, [(c, "") for c in columns], body)


def _plain(value: object) -> str:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return number(value)
    return "" if value is None else str(value)


def _select(
    key: str,
    label: str,
    values: Iterable[str],
    *,
    match: str = "eq",
    name: str | None = None,
    any_label: str = "any",
) -> str:
    options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
    return (
        f'<label>{esc(label)} <select name="{name or key}" data-match="{match}">'
        f'<option value="">{esc(any_label)}</option>{options}</select></label>'
    )


def _by_model(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[row["model_id"]].append(row)
    return out


def _num_cell(value: int | None) -> str:
    return f'<td class="n" data-v="{"" if value is None else value}">{count(value)}</td>'


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"


def _bounds(low: int | None, high: int | None) -> str:
    if low is None:
        return "bounds unread"
    return f"{count(low)} &lt; prompt" + (f" ≤ {count(high)}" if high is not None else "")


def _share(n: int, total: int) -> str:
    return "" if not total else f"{n * 100 / total:.1f}%"


def _metric_order(metric: str) -> tuple[int, str]:
    order = [*KINDS, *CACHE_KINDS]
    return (order.index(metric) if metric in order else len(order), metric)


def _fragment(model_id: str) -> str:
    from urllib.parse import quote

    return quote(model_id, safe="")
