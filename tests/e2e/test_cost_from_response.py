"""``modelcat.cost_from_response``: the usage of OpenAI Chat Completions and Responses,
Anthropic Messages and Google generateContent responses (JSON dicts and SDK-like objects),
priced on the cost mirror's catalog. Each case is worked out by hand, and each must equal
``cost()`` given the counts the API's own rule yields."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace as Obj
from typing import Any

import pytest

import modelcat
from tests.support.cost_site import VERTEX

# (response, the counts cost() gets: input incl. cached, output, cache read, cache write,
#  the total worked out by hand)
CASES: dict[str, tuple[Any, tuple[int, int, int, int], str]] = {
    # Chat Completions: prompt_tokens includes the cached ones.
    # 6,000 x $1.25 + 4,000 x $0.31 + 1,000 x $10
    "openai chat": (
        {"model": "two-tier-1m", "usage": {"prompt_tokens": 10_000, "completion_tokens": 1_000,
         "total_tokens": 11_000, "prompt_tokens_details": {"cached_tokens": 4_000}}},
        (10_000, 1_000, 4_000, 0),
        "0.01874",
    ),
    # Responses, as an SDK object: input_tokens includes the cached ones; reasoning tokens
    # are part of output_tokens.
    "openai responses": (
        Obj(model="two-tier-1m", usage=Obj(input_tokens=10_000, output_tokens=1_000,
            input_tokens_details=Obj(cached_tokens=4_000),
            output_tokens_details=Obj(reasoning_tokens=300))),
        (10_000, 1_000, 4_000, 0),
        "0.01874",
    ),
    # Anthropic: input_tokens excludes cache reads and writes; the prompt is all three.
    # 1,000 x $3 + 20,000 x $0.3 + 30,000 x $3.75 + 2,000 x $15
    "anthropic messages": (
        {"model": "sonnet-long", "usage": {"input_tokens": 1_000, "output_tokens": 2_000,
         "cache_read_input_tokens": 20_000, "cache_creation_input_tokens": 30_000,
         "service_tier": "standard"}},
        (51_000, 2_000, 20_000, 30_000),
        "0.1515",
    ),
    # The same as an SDK object with no caching: its cache fields are None.
    "anthropic sdk, no cache": (
        Obj(model="sonnet-long", usage=Obj(input_tokens=1_000, output_tokens=2_000,
            cache_read_input_tokens=None, cache_creation_input_tokens=None)),
        (1_000, 2_000, 0, 0),
        "0.033",
    ),
    # Google REST JSON: promptTokenCount includes the cached content; thoughts bill as
    # output. 250,000 is above 200K: 150,000 x $2.5 + 100,000 x $0.625 + 1,500 x $15.
    "google rest": (
        {"modelVersion": "two-tier-1m", "usageMetadata": {"promptTokenCount": 250_000,
         "cachedContentTokenCount": 100_000, "candidatesTokenCount": 1_000,
         "thoughtsTokenCount": 500, "totalTokenCount": 251_500}},
        (250_000, 1_500, 100_000, 0),
        "0.46",
    ),
    # Google SDK object: tool results fed back are input beside the prompt.
    # 1,200 x $1.25 + 100 x $10
    "google sdk": (
        Obj(model_version="two-tier-1m", usage_metadata=Obj(prompt_token_count=1_000,
            tool_use_prompt_token_count=200, candidates_token_count=100,
            cached_content_token_count=None, thoughts_token_count=None)),
        (1_200, 100, 0, 0),
        "0.0025",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", CASES)
def test_each_api_is_priced_by_its_own_counting(priced: Path, name: str) -> None:
    response, (inp, out, read, written), total = CASES[name]
    got = modelcat.cost_from_response(response, data_dir=priced)
    want = modelcat.cost(got.model_id, inp, output_tokens=out, cache_read_tokens=read,
                         cache_write_tokens=written, data_dir=priced)  # fmt: skip
    assert got == want
    assert got.total_usd == Decimal(total)


def test_model_and_provider_can_be_named(priced: Path) -> None:
    response = {"model": "some-deployment-name", "service_tier": "flex",
                "usage": {"prompt_tokens": 1_000, "completion_tokens": 0}}  # fmt: skip
    with pytest.raises(ValueError, match="'flex' service tier"):
        modelcat.cost_from_response(response, model="two-tier-1m", data_dir=priced)
    batch = modelcat.cost_from_response(
        response, model="two-tier-1m", provider=f"{VERTEX} Batch", data_dir=priced
    )
    assert (batch.provider, batch.service_tier, batch.total_usd) == (
        f"{VERTEX} Batch",
        "batch",
        Decimal("0.000625"),  # 1,000 x $0.625
    )
    with pytest.raises(modelcat.UnknownModel):
        modelcat.cost_from_response(response | {"service_tier": "default"}, data_dir=priced)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ({"id": "x", "choices": []}, "cannot read the token usage"),
        ("not a response", "cannot read the token usage"),
        ({"model": "two-tier-1m", "usage": {"prompt_tokens": 10, "completion_tokens": 1,
          "prompt_tokens_details": {"audio_tokens": 5}}}, "audio tokens"),
        ({"model": "sonnet-long", "usage": {"input_tokens": 10, "output_tokens": 1,
          "cache_creation_input_tokens": 100, "cache_read_input_tokens": 0,
          "cache_creation": {"ephemeral_1h_input_tokens": 100}}}, "one-hour cache writes"),
        ({"modelVersion": "two-tier-1m", "usageMetadata": {"promptTokenCount": 10,
          "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": 10}]}}, "audio tokens"),
        ({"model": "two-tier-1m", "usage": {"prompt_tokens": 1.5, "completion_tokens": 1}},
         "not a token count"),
        ({"usage": {"prompt_tokens": 1, "completion_tokens": 1}}, "names no model"),
    ],
)  # fmt: skip
def test_what_cannot_be_priced_exactly_is_refused(
    priced: Path, response: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        modelcat.cost_from_response(response, data_dir=priced)
