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

import bisect
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
    matches it. Entry index -> the ids its clause claims.

    Each clause is evaluated on all our ids at once: ``equals``, ``starts_with`` and
    ``ends_with`` by lookup and bisection, every regex of the file in one RE2 set that
    reads each id once."""
    with_clause = [index for index, entry in enumerate(entries) if entry.match is not None]
    clauses: dict[int, Any] = {}
    patterns: set[str] = set()
    for index in with_clause:
        try:
            clauses[index] = _check(entries[index].match, 0, patterns)
        except (ValueError, TypeError, re2.error) as error:
            problem = f"match clause not read: {error}"
            problems.append(Problem(entries[index].source_model, "match", None, problem))
    ids_of = _Ids(ids, sorted(patterns))
    claimed: dict[int, set[str]] = defaultdict(set)
    taken: dict[str | None, set[str]] = defaultdict(set)
    for index in with_clause:
        if index in clauses:
            provider = entries[index].provider
            found = ids_of.matching(clauses[index]) - taken[provider]
            claimed[index] = found
            taken[provider] |= found
    return claimed


def _check(spec: Any, depth: int, patterns: set[str]) -> Any:
    """The clause as written, once checked; its regexes are added to ``patterns``."""
    if depth > MAX_CLAUSE_DEPTH:
        raise ValueError(f"nested deeper than {MAX_CLAUSE_DEPTH}")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ValueError("a clause is an object with one key")
    ((kind, value),) = spec.items()
    if kind in {"or", "and"}:
        if not isinstance(value, list):
            raise ValueError(f"'{kind}' takes a list")
        for part in value:
            _check(part, depth + 1, patterns)
        return spec
    if kind not in {"equals", "starts_with", "ends_with", "contains", "regex"}:
        raise ValueError(f"unknown clause '{kind}'")
    if not isinstance(value, str):
        raise ValueError(f"'{kind}' takes text")
    if kind == "regex":
        re2.compile(value)  # raises re2.error for a pattern RE2 refuses
        patterns.add(value)
    return spec


class _Ids:
    """Our ids, indexed for evaluating clauses on all of them at once."""

    def __init__(self, ids: list[str], patterns: list[str]) -> None:
        self.ids = set(ids)
        self.forward = sorted(ids)
        self.backward = sorted(i[::-1] for i in ids)
        self.by_pattern: dict[str, set[str]] = {p: set() for p in patterns}
        if patterns:
            every = re2.Set.SearchSet()
            for pattern in patterns:
                every.Add(pattern)
            every.Compile()
            for model_id in ids:
                for position in every.Match(model_id) or ():
                    self.by_pattern[patterns[position]].add(model_id)

    def matching(self, spec: dict) -> set[str]:
        ((kind, value),) = spec.items()
        if kind == "or":
            return set().union(*(self.matching(part) for part in value))
        if kind == "and":
            parts = [self.matching(part) for part in value]
            return set.intersection(*parts) if parts else set(self.ids)
        if kind == "equals":
            return {value} & self.ids
        if kind == "starts_with":
            return _prefixed(self.forward, value)
        if kind == "ends_with":
            return {i[::-1] for i in _prefixed(self.backward, value[::-1])}
        if kind == "contains":
            return {i for i in self.ids if value in i}
        return self.by_pattern[value]


def _prefixed(ordered: list[str], prefix: str) -> set[str]:
    start = bisect.bisect_left(ordered, prefix)
    end = start
    while end < len(ordered) and ordered[end].startswith(prefix):
        end += 1
    return set(ordered[start:end])
