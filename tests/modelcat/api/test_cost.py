"""The Python API's ``cost`` and ``rank_costs`` (``modelcat.api.cost``): what they take.
Counts are whole numbers of any integer type, numpy's too; anything else is answered with a
``TypeError`` or ``ValueError`` in one sentence of ours, never DuckDB's. The prices they
give, end to end: ``tests/e2e/test_cost.py``."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from modelcat.api.cost import cost, rank_costs
from transforms.contract.layout import DataDir

MODEL = "deepseek-chat"
COUNTS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "requests")


def usage(name: str, value: object) -> dict[str, object]:
    """Keyword arguments of a request of 1,000 input tokens with ``name`` set to ``value``."""
    return {"input_tokens": 1000, name: value}


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("integer", [np.int64, np.int32, np.uint16, int])
def test_any_integer_type_is_a_count(two_runs: DataDir, name: str, integer: type) -> None:
    asked = usage(name, integer(7))
    plain = usage(name, 7)
    assert cost(MODEL, data_dir=two_runs.root, **asked) == cost(  # type: ignore[arg-type]
        MODEL, data_dir=two_runs.root, **plain
    )
    ranked = rank_costs(data_dir=two_runs.root, top=integer(3), **asked)  # type: ignore[arg-type]
    assert ranked == rank_costs(data_dir=two_runs.root, top=3, **plain)  # type: ignore[arg-type]
    assert len(ranked) == 3


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize(
    "value", [True, np.bool_(False), "1000", 10.0, np.float64(3), Decimal(5), None, [1]]
)
def test_a_count_that_is_no_whole_number_is_a_type_error(
    two_runs: DataDir, name: str, value: object
) -> None:
    message = rf"^{name} must be a whole number, not \w+ .+$"
    with pytest.raises(TypeError, match=message):
        cost(MODEL, data_dir=two_runs.root, **usage(name, value))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=message):
        rank_costs(data_dir=two_runs.root, **usage(name, value))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("value", [-1, np.int64(-5), 2**63])
def test_a_count_out_of_range_is_a_value_error(two_runs: DataDir, name: str, value: int) -> None:
    with pytest.raises(ValueError, match=rf"^impossible usage: {name} must be "):
        cost(MODEL, data_dir=two_runs.root, **usage(name, value))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"^impossible usage: {name} must be "):
        rank_costs(data_dir=two_runs.root, **usage(name, value))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("top", "error", "message"),
    [
        (-1, ValueError, "top must be a whole number >= 0, got -1"),
        (True, TypeError, "top must be a whole number, not bool True"),
        ("3", TypeError, "top must be a whole number, not str '3'"),
        (2.5, TypeError, "top must be a whole number, not float 2.5"),
    ],
)
def test_top_is_checked_like_a_count(
    two_runs: DataDir, top: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        rank_costs(1000, top=top, data_dir=two_runs.root)  # type: ignore[arg-type]


def test_top_zero_ranks_nothing(two_runs: DataDir) -> None:
    assert rank_costs(1000, top=0, data_dir=two_runs.root) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"model_id": 42}, "model_id must be a str, not int 42"),
        ({"model_id": MODEL, "provider": b"openai"}, "provider must be a str or None, not bytes"),
        ({"model_id": MODEL, "provider": "x", "region": 1}, "region must be a str or None"),
    ],
)
def test_ids_are_text(two_runs: DataDir, arguments: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        cost(input_tokens=10, data_dir=two_runs.root, **arguments)


@pytest.mark.parametrize("as_of", ["0001-01-01T00:00+01:00", "9999-12-31T23:00-05:00"])
def test_a_time_out_of_range_is_a_value_error(two_runs: DataDir, as_of: str) -> None:
    with pytest.raises(ValueError, match="is out of range: in UTC it falls outside years 1"):
        cost(MODEL, 1000, as_of=as_of, data_dir=two_runs.root)
