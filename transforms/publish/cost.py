"""What a request or a workload costs: the pricing rule, written once, as DuckDB table macros.

Publishing stores them in the catalog file (``catalog_file``), so SQL, ``modelcat cost`` and
the Python ``cost()`` all price through the same text and always agree:

- ``workload_costs(input_tokens, output_tokens := 0, cache_read_tokens := 0,
  cache_write_tokens := 0, requests := 1, as_of := NULL, service_tier := 'standard')``: one
  row per model's official prices (``provider`` NULL, the standard tier) and one per provider
  offer of that service tier (NULL: every tier), so a ranking compares like with like.
- ``request_cost(model_id, input_tokens, …, provider := NULL, requests := 1, as_of := NULL)``:
  the official row of one model, or that provider's offers of it (the provider label names
  its tier): the name is matched without regard to case, unless an offer bears it exactly
  as given (``OpenAI`` and ``openai`` selling one model are two offers, each named by its own
  spelling).

The rule (the README's "What will it cost?" says it for users): the prompt is every input
token, cached ones included; the tier is the official column with ``min < prompt <= max``
(a 0-token prompt is in the first tier), and its prices bill every token of the request
(cliff, not graduated). A cache bucket without a price row is billed as input. A used kind
without a price, a prompt no tier holds, tiers that overlap or whose bounds are unreadable:
the total is NULL and ``reason`` says why; never a fallback to another tier.

Exactness: prices are DECIMAL(18,9) USD per 1M tokens, so a cost has at most 15 decimals.
Division would make a DOUBLE, so costs multiply by 0.000001 (DECIMAL(7,6)) instead, on
operands widened to DECIMAL(38,·) first: DuckDB then keeps the product exact at
DECIMAL(38,15) or raises "Overflow in multiplication"; it never rounds.

Macro parameters shadow bare column names, so every column here is qualified, and no
column is named like a parameter.
"""

from __future__ import annotations

from transforms.contract.vocabulary import CACHE_METRICS, TOKEN_METRICS, ServiceTier
from transforms.publish.asof import utc_timestamp

# The token kinds a request is billed by, in the order of the cost columns.
KINDS: tuple[str, ...] = tuple(TOKEN_METRICS)
CACHE_KINDS: tuple[str, ...] = tuple(CACHE_METRICS)
USD = "DECIMAL(38,15)"


def _each(template: str, kinds: tuple[str, ...] = KINDS, separator: str = ", ") -> str:
    """``template`` once per token kind ``{k}``."""
    return separator.join(template.format(k=k) for k in kinds)


def _count(parameter: str) -> str:
    """The parameter as BIGINT, or an error unless it is a whole number >= 0."""
    return (
        f"CASE WHEN {parameter} IS NULL OR {parameter} < 0 OR {parameter} <> trunc({parameter}) "
        f"THEN error('impossible usage: {parameter} must be a whole number >= 0, got ' "
        f"|| coalesce(CAST({parameter} AS VARCHAR), 'NULL')) "
        f"ELSE CAST({parameter} AS BIGINT) END"
    )


def _held(alias: str) -> str:
    """History row ``alias`` held at ``u.at``: ``valid_from`` inclusive, ``valid_to`` not."""
    return f"{alias}.valid_from <= u.at AND ({alias}.valid_to IS NULL OR {alias}.valid_to > u.at)"


# The request, checked; ``at`` is NULL for the current catalog.
_USAGE = f"""
usage AS (
    SELECT {_count("input_tokens")} AS prompt,
           {_count("output_tokens")} AS output,
           {_count("cache_read_tokens")} AS cache_read,
           {_count("cache_write_tokens")} AS cache_write,
           {_count("requests")} AS times,
           {utc_timestamp("as_of")} AS at,
           CASE WHEN service_tier IS NULL
                  OR list_contains({list(map(str, ServiceTier))}, service_tier)
                THEN service_tier
                ELSE error('unknown service_tier ' || service_tier || ' (one of: '
                    || '{", ".join(ServiceTier)})') END AS tier
),
u AS (
    SELECT CASE WHEN v.cache_read + v.cache_write > v.prompt
                THEN error('impossible usage: cache_read_tokens + cache_write_tokens ('
                    || (v.cache_read + v.cache_write) || ') exceed input_tokens (' || v.prompt
                    || '), which counts every prompt token, cached ones included')
                ELSE v.prompt END AS prompt,
           v.output, v.cache_read, v.cache_write, v.times, v.at, v.tier
    FROM usage v
)"""

_OFFER_LISTED = (
    "o.{k}_usd_per_mtok IS NOT NULL OR EXISTS (SELECT 1 FROM unread_prices r "
    "WHERE r.model_id = o.model_id AND r.provider = o.provider "
    "AND r.region IS NOT DISTINCT FROM o.region AND r.metric = '{k}') AS {k}_listed"
)

# What is priced: the current tables, or with ``as_of`` the history that held then. An offer's
# NULL cache price is "no such bucket" unless the run could not read it (``unread_prices``);
# as of a past time history holds the last price read for such a cell, so there a missing
# price is always "no such bucket".
_SOURCES = f"""
model_windows AS (
    SELECT m.model_id, m.context_window_tokens FROM models m, u WHERE u.at IS NULL
    UNION ALL
    SELECT m.model_id, m.context_window_tokens FROM model_history m, u
    WHERE u.at IS NOT NULL AND {_held("m")}
),
official AS (
    SELECT p.model_id, p.tier_label, p.tier_min_tokens, p.tier_max_tokens, p.metric,
           p.usd_per_mtok
    FROM official_prices p, u WHERE u.at IS NULL
    UNION ALL
    SELECT h.model_id, h.tier_label, h.tier_min_tokens, h.tier_max_tokens, h.metric,
           h.usd_per_mtok
    FROM price_history h, u WHERE u.at IS NOT NULL AND h.provider IS NULL AND {_held("h")}
),
offers AS (
    SELECT o.model_id, o.provider, o.service_tier, o.region, o.context_window_tokens,
           {_each("o.{k}_usd_per_mtok AS {k}_price")},
           {_each(_OFFER_LISTED, CACHE_KINDS)}
    FROM provider_offers o, u WHERE u.at IS NULL
    UNION ALL
    SELECT o.model_id, o.provider, o.service_tier, o.region, o.context_window_tokens,
           {_each("max(h.usd_per_mtok) FILTER (WHERE h.metric = '{k}')")},
           {_each("coalesce(bool_or(h.metric = '{k}'), false)", CACHE_KINDS)}
    FROM offer_history o JOIN u ON u.at IS NOT NULL AND {_held("o")}
    LEFT JOIN price_history h
      ON h.model_id = o.model_id AND h.provider = o.provider
     AND h.region IS NOT DISTINCT FROM o.region AND {_held("h")}
    GROUP BY ALL
)"""

_HOLDS = (
    "(t.tier_min_tokens < u.prompt OR (u.prompt = 0 AND t.tier_min_tokens = 0)) "
    "AND (t.tier_max_tokens IS NULL OR u.prompt <= t.tier_max_tokens)"
)

# Each model's official tier for this prompt, or the problem that leaves it without one.
_TIERS = f"""
tiers AS (
    SELECT DISTINCT o.model_id, o.tier_label, o.tier_min_tokens, o.tier_max_tokens
    FROM official o
),
choice AS (
    SELECT t.model_id,
           list(t.tier_label ORDER BY t.tier_label)
               FILTER (WHERE t.tier_min_tokens IS NULL) AS unreadable,
           list(t.tier_label ORDER BY t.tier_min_tokens, t.tier_label)
               FILTER (WHERE t.tier_min_tokens IS NOT NULL) AS readable,
           list(t.tier_label ORDER BY t.tier_min_tokens, t.tier_label)
               FILTER (WHERE {_HOLDS}) AS holding,
           min(t.tier_label) FILTER (WHERE {_HOLDS}) AS tier_label,
           min(t.tier_min_tokens) FILTER (WHERE {_HOLDS}) AS tier_min_tokens,
           min(t.tier_max_tokens) FILTER (WHERE {_HOLDS}) AS tier_max_tokens
    FROM tiers t, u
    GROUP BY t.model_id
),
chosen AS (
    SELECT c.*, c.unreadable IS NULL AND len(c.holding) = 1 AS ok,
           CASE WHEN c.unreadable IS NOT NULL
                THEN 'tier bounds unreadable (' || array_to_string(c.unreadable, ', ')
                     || '): no tier can be chosen by prompt size'
                WHEN c.holding IS NULL
                THEN 'no official tier holds a prompt of ' || u.prompt || ' tokens (tiers: '
                     || array_to_string(c.readable, ', ') || ')'
                WHEN len(c.holding) > 1
                THEN 'official tiers overlap at a prompt of ' || u.prompt || ' tokens: '
                     || array_to_string(c.holding, ', ')
           END AS problem
    FROM choice c, u
)"""

# One row per model (its chosen tier's prices) and per offer: a price and, for the cache
# buckets, whether the bucket has a price row at all ("listed"), per kind.
_PRICES = f"""
prices AS (
    SELECT w.model_id, NULL::VARCHAR AS provider, '{ServiceTier.STANDARD}' AS service_tier,
           NULL::VARCHAR AS region,
           CASE WHEN c.ok THEN c.tier_label END AS tier_label,
           CASE WHEN c.ok THEN c.tier_min_tokens END AS tier_min_tokens,
           CASE WHEN c.ok THEN c.tier_max_tokens END AS tier_max_tokens,
           {_each("max(o.usd_per_mtok) FILTER (WHERE o.metric = '{k}') AS {k}_price")},
           {_each("bool_or(o.metric = '{k}') AS {k}_listed", CACHE_KINDS)},
           w.context_window_tokens,
           coalesce(c.problem, CASE WHEN c.model_id IS NULL THEN 'no official prices' END)
               AS problem
    FROM model_windows w
    LEFT JOIN chosen c ON c.model_id = w.model_id
    LEFT JOIN official o
      ON c.ok AND o.model_id = c.model_id AND o.tier_label = c.tier_label
     AND o.tier_min_tokens = c.tier_min_tokens
    GROUP BY ALL
    UNION ALL
    SELECT f.model_id, f.provider, f.service_tier, f.region, NULL, NULL, NULL,
           {_each("f.{k}_price")}, {_each("f.{k}_listed", CACHE_KINDS)},
           coalesce(f.context_window_tokens, w.context_window_tokens), NULL
    FROM offers f LEFT JOIN model_windows w ON w.model_id = f.model_id
)"""

# Tokens billed at each kind's price. Without a tier it is unknown whether a cache bucket
# has a price, so it stays a kind of its own (NULL listed: unpriced, never folded).
_LISTED = "coalesce(p.{k}_listed, true)"
_CACHED = f"CASE WHEN {_LISTED} THEN u.{{k}} ELSE 0 END"
# Exact: widen, then multiply (see the module's docstring).
_KIND_USD = (
    f"CASE WHEN b.{{k}}_billed = 0 THEN CAST(0 AS {USD}) "
    "ELSE CAST(b.{k}_price AS DECIMAL(38,9)) * CAST(b.{k}_billed AS DECIMAL(38,0)) "
    "* 0.000001 * CAST(b.times AS DECIMAL(38,0)) END AS {k}_usd"
)
_OR = " || "
_COSTS = f"""
billed AS (
    SELECT p.*, u.times, u.prompt,
           u.prompt - {_each(_CACHED, CACHE_KINDS, " - ")} AS input_billed,
           u.output AS output_billed,
           {_each(_CACHED + " AS {k}_billed", CACHE_KINDS)},
           {_each(f"u.{{k}} > 0 AND NOT {_LISTED} AS {{k}}_folded", CACHE_KINDS)}
    FROM prices p, u
    WHERE u.tier IS NULL OR p.service_tier = u.tier
),
costs AS (
    SELECT b.*,
           {_each(_KIND_USD)}
    FROM billed b
),
judged AS (
    SELECT c.*,
           {_each("CASE WHEN c.{k}_usd IS NULL THEN ['{k}'] ELSE []::VARCHAR[] END", KINDS, _OR)}
               AS unpriced,
           {_each("CASE WHEN c.{k}_folded THEN ['{k}'] ELSE []::VARCHAR[] END", CACHE_KINDS, _OR)}
               AS billed_as_input
    FROM costs c
)
SELECT j.model_id, j.provider, j.service_tier, j.region,
       j.tier_label, j.tier_min_tokens, j.tier_max_tokens,
       j.times AS requests, {_each("j.{k}_usd")},
       CASE WHEN j.problem IS NULL  -- and NULL, as a sum, when a used kind is unpriced
            THEN {_each("j.{k}_usd", separator=" + ")} END AS total_usd,
       j.unpriced, j.billed_as_input,
       j.prompt > j.context_window_tokens AS exceeds_context, j.context_window_tokens,
       coalesce(j.problem, CASE WHEN len(j.unpriced) > 0
           THEN 'no price for ' || array_to_string(j.unpriced, ', ')
                || coalesce(' in tier ' || j.tier_label, ' in this offer') END) AS reason
FROM judged j"""

WORKLOAD_COSTS = f"""CREATE MACRO workload_costs(
    input_tokens, output_tokens := 0, cache_read_tokens := 0, cache_write_tokens := 0,
    requests := 1, as_of := NULL, service_tier := 'standard'
) AS TABLE
WITH {_USAGE},{_SOURCES},{_TIERS},{_PRICES},{_COSTS}"""

REQUEST_COST = """CREATE MACRO request_cost(
    model_id, input_tokens, output_tokens := 0, cache_read_tokens := 0, cache_write_tokens := 0,
    provider := NULL, requests := 1, as_of := NULL
) AS TABLE
SELECT w.* FROM workload_costs(
    input_tokens, output_tokens := output_tokens, cache_read_tokens := cache_read_tokens,
    cache_write_tokens := cache_write_tokens, requests := requests, as_of := as_of,
    service_tier := NULL
) w
WHERE w.model_id = model_id
  AND CASE WHEN provider IS NULL THEN w.provider IS NULL
           ELSE lower(w.provider) = lower(provider) END
-- Names that differ only in case are different offers: the name as written picks its own.
QUALIFY provider IS NULL OR w.provider = provider
     OR count(*) FILTER (WHERE w.provider = provider) OVER () = 0"""

# In creation order: request_cost calls workload_costs.
COST_MACROS = (WORKLOAD_COSTS, REQUEST_COST)
