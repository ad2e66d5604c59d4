"""Linking reference entries to our model ids by named rules (``MatchRule``), never merging.

Each entry is tried against our ids rule by rule, strongest first; each of our ids it
finds is linked by the strongest rule that found it (one entry may name several of our
ids: a genai-prices match clause, an undated alias). Then, of the entries of one source
that price the same scope (the official prices, or one provider's offer) of the same model,
only those of the strongest rule keep the link: an exact id always beats an alias. An
entry left with no link keeps a NULL model id.

genai-prices' match clauses come from the network; their regexes run on RE2, in time linear
in the id, and a clause nested deeper than ``MAX_CLAUSE_DEPTH`` matches nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import re2

from transforms.contract.vocabulary import MatchRule, ReferenceSource
from transforms.references.parse import Problem, ReferenceEntry

RANK = {rule: rank for rank, rule in enumerate(MatchRule)}
# A dated snapshot id: the README states this pattern (date_suffix).
DATE_SUFFIX = re.compile(r"[-@](?:\d{4}-\d{2}-\d{2}|\d{8})$")
MAX_CLAUSE_DEPTH = 16


@dataclass(frozen=True)
class Link:
    entry: int  # the entry's index in its source's list
    model_id: str
    rule: MatchRule


def undated(model_id: str) -> str:
    """The id without a date suffix (the id itself when it has none)."""
    return DATE_SUFFIX.sub("", model_id)


def link_entries(
    source: ReferenceSource, entries: list[ReferenceEntry], model_ids: Collection[str]
) -> tuple[list[Link], list[Problem]]:
    """The links of a source's entries to ``model_ids`` after the strongest rule wins."""
    ids = set(model_ids)
    by_undated: dict[str, list[str]] = defaultdict(list)
    for model_id in sorted(ids):
        by_undated[undated(model_id)].append(model_id)
    links: list[Link] = []
    problems: list[Problem] = []
    matched_by_clause = (
        _clause_links(entries, sorted(ids), problems)
        if source == ReferenceSource.GENAI_PRICES
        else {}
    )
    for index, entry in enumerate(entries):
        seen: set[str] = set()
        for rule, found in _candidates(source, entry, ids, by_undated, matched_by_clause, index):
            links.extend(Link(index, model_id, rule) for model_id in sorted(found - seen))
            seen |= found
    return _strongest(links, entries), problems


def _candidates(
    source: ReferenceSource,
    entry: ReferenceEntry,
    ids: set[str],
    by_undated: dict[str, list[str]],
    matched_by_clause: dict[int, set[str]],
    index: int,
) -> Iterable[tuple[MatchRule, set[str]]]:
    names = {entry.model, *entry.aliases}
    # models.dev and genai-prices write provider/model; their ids are the model part.
    within_provider = source in {ReferenceSource.MODELS_DEV, ReferenceSource.GENAI_PRICES}
    yield MatchRule.EXACT, ({entry.source_model} | (names if within_provider else set())) & ids
    if source == ReferenceSource.OPENROUTER:
        yield MatchRule.AUTHOR_PREFIX, names & ids
    if source == ReferenceSource.LITELLM and entry.source_model != entry.model:
        # bedrock/us-east-1/x: the model is after the last prefix
        yield MatchRule.PROVIDER_PREFIX, {entry.model, entry.model.rsplit("/", 1)[-1]} & ids
    yield MatchRule.SOURCE_MATCH, matched_by_clause.get(index, set())
    dated: set[str] = set()
    for name in names | {entry.model.rsplit("/", 1)[-1]}:
        dated.update(by_undated.get(undated(name), ()))
    # Only an unambiguous pair: an undated alias shared by several snapshots names none.
    yield MatchRule.DATE_SUFFIX, dated if len(dated) == 1 else set()


def _strongest(links: list[Link], entries: list[ReferenceEntry]) -> list[Link]:
    """Of the links of entries of one scope to one model, those of the strongest rule."""
    best: dict[tuple[str | None, str], int] = {}
    for link in links:
        scope = (entries[link.entry].offer_provider, link.model_id)
        best[scope] = min(best.get(scope, len(RANK)), RANK[link.rule])
    return [
        link
        for link in links
        if RANK[link.rule] == best[(entries[link.entry].offer_provider, link.model_id)]
    ]


def _clause_links(
    entries: list[ReferenceEntry], ids: list[str], problems: list[Problem]
) -> dict[int, set[str]]:
    """genai-prices' rule: an id belongs to the first model of a provider whose clause
    matches it. Entry index -> the ids its clause claims."""
    claimed: dict[int, set[str]] = defaultdict(set)
    by_provider: dict[str | None, list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        if entry.match is not None:
            by_provider[entry.provider].append(index)
    for indexes in by_provider.values():
        clauses = [(index, _compile(entries[index], problems)) for index in indexes]
        for model_id in ids:
            for index, clause in clauses:
                if clause is not None and clause(model_id):
                    claimed[index].add(model_id)
                    break
    return claimed


Clause = Any  # a callable str -> bool


def _compile(entry: ReferenceEntry, problems: list[Problem]) -> Clause | None:
    try:
        return _clause(entry.match, 0)
    except (ValueError, TypeError, re2.error) as error:
        problems.append(
            Problem(entry.source_model, "match", None, f"match clause not read: {error}")
        )
        return None


def _clause(spec: Any, depth: int) -> Clause:
    if depth > MAX_CLAUSE_DEPTH:
        raise ValueError(f"nested deeper than {MAX_CLAUSE_DEPTH}")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ValueError("a clause is an object with one key")
    ((kind, value),) = spec.items()
    if kind in {"or", "and"}:
        if not isinstance(value, list):
            raise ValueError(f"'{kind}' takes a list")
        parts = [_clause(part, depth + 1) for part in value]
        if kind == "or":
            return lambda text: any(part(text) for part in parts)
        return lambda text: all(part(text) for part in parts)
    if not isinstance(value, str):
        raise ValueError(f"'{kind}' takes text")
    if kind == "equals":
        return lambda text: text == value
    if kind == "starts_with":
        return lambda text: text.startswith(value)
    if kind == "ends_with":
        return lambda text: text.endswith(value)
    if kind == "contains":
        return lambda text: value in text
    if kind == "regex":
        pattern = re2.compile(value)
        return lambda text: pattern.search(text) is not None
    raise ValueError(f"unknown clause '{kind}'")
