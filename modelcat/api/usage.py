"""What an API response cost: ``cost_from_response(response)`` reads the token usage a
provider's API reports and prices it with ``cost()``, exactly as if the counts were typed in.

Each API counts cached tokens its own way; ``cost()`` wants every prompt token in
``input_tokens``, with the cached ones also in ``cache_read_tokens`` / ``cache_write_tokens``:

- OpenAI Chat Completions (``usage.prompt_tokens``, ``completion_tokens``,
  ``prompt_tokens_details.cached_tokens``) and Responses (``usage.input_tokens``,
  ``output_tokens``, ``input_tokens_details.cached_tokens``): the prompt count includes the
  cached tokens; reasoning tokens are part of the output count. No cache-write count.
- Anthropic Messages (``usage.input_tokens``, ``output_tokens``, ``cache_read_input_tokens``,
  ``cache_creation_input_tokens``): ``input_tokens`` counts only the tokens after the last
  cache breakpoint, so the prompt is the sum of the three.
- Google generateContent (``usageMetadata`` / ``usage_metadata``: ``promptTokenCount``,
  ``cachedContentTokenCount``, ``candidatesTokenCount``, ``thoughtsTokenCount``,
  ``toolUsePromptTokenCount``): the prompt count includes the cached content; thoughts are
  billed as output; tool-use prompt tokens (tool results fed back) are input beside it.

A response is a dict (the JSON) or an SDK object with attributes; snake_case and camelCase
names are both read. What the catalog cannot price as reported is refused, never
approximated: audio tokens, Anthropic's one-hour cache writes (another price), a response
served on a service tier other than standard without naming the provider's offer.
"""

from __future__ import annotations

from typing import Any

from modelcat.api.cost import Cost, DataDirOrConnection, cost

# Tiers a response may name that are the standard one (OpenAI's "default", "auto").
_STANDARD_TIERS = {None, "default", "auto", "standard", "standard_only"}


def cost_from_response(
    response: Any,
    *,
    model: str | None = None,
    provider: str | None = None,
    data_dir: DataDirOrConnection = None,
) -> Cost:
    """What this API response cost, priced like ``cost()``: the official prices of its model
    (``model`` overrides the model the response names), or ``provider``'s offer.

    Raises ``ValueError`` for a response whose usage cannot be read or priced as reported,
    and what ``cost()`` raises (``UnknownModel``, ``CatalogNotFound``).
    """
    usage = _first(response, "usage", "usage_metadata", "usageMetadata")
    if usage is None:
        usage = response  # the usage object itself
    if _has(usage, "promptTokenCount", "prompt_token_count"):
        counts = _google(usage)
        named = _first(response, "model_version", "modelVersion", "model")
    elif _has(usage, "prompt_tokens"):
        counts = _openai_chat(usage)
        named = _first(response, "model")
    elif _has(usage, "input_tokens"):
        counts = _anthropic_or_responses(usage)
        named = _first(response, "model")
    else:
        raise ValueError(
            "cannot read the token usage of this response: expected OpenAI Chat Completions "
            "or Responses, Anthropic Messages or Google generateContent usage (got "
            f"{type(response).__name__} {_fields(response)})"
        )
    tier = _first(response, "service_tier") or _first(usage, "service_tier")
    if provider is None and tier not in _STANDARD_TIERS:
        raise ValueError(
            f"this response was served on the {tier!r} service tier, which the official prices "
            "are not: pass provider= the offer of that tier (e.g. 'OpenAI Batch')"
        )
    model_id = model or named
    if not isinstance(model_id, str) or not model_id:
        raise ValueError("the response names no model: pass model=")
    return cost(model_id, counts[0], output_tokens=counts[1], cache_read_tokens=counts[2],
                cache_write_tokens=counts[3], provider=provider, data_dir=data_dir)  # fmt: skip


def _openai_chat(usage: Any) -> tuple[int, int, int, int]:
    details = _first(usage, "prompt_tokens_details")
    _no_audio(details, _first(usage, "completion_tokens_details"))
    prompt = _count(usage, "prompt_tokens")
    return prompt, _count(usage, "completion_tokens"), _count(details, "cached_tokens"), 0


def _anthropic_or_responses(usage: Any) -> tuple[int, int, int, int]:
    output = _count(usage, "output_tokens")
    if _has(usage, "cache_read_input_tokens", "cache_creation_input_tokens"):  # Anthropic
        creation = _first(usage, "cache_creation")
        if _count(creation, "ephemeral_1h_input_tokens"):
            raise ValueError(
                "one-hour cache writes are billed at a price of their own, which the catalog "
                "does not list: this response cannot be priced exactly"
            )
        read = _count(usage, "cache_read_input_tokens")
        written = _count(usage, "cache_creation_input_tokens")
        return _count(usage, "input_tokens") + read + written, output, read, written
    details = _first(usage, "input_tokens_details")  # OpenAI Responses
    _no_audio(details, _first(usage, "output_tokens_details"))
    return _count(usage, "input_tokens"), output, _count(details, "cached_tokens"), 0


def _google(usage: Any) -> tuple[int, int, int, int]:
    for modalities in (
        _first(usage, "promptTokensDetails", "prompt_tokens_details"),
        _first(usage, "candidatesTokensDetails", "candidates_tokens_details"),
    ):
        for entry in modalities or ():
            modality = str(_first(entry, "modality") or "").upper()
            if "AUDIO" in modality and _count(entry, "tokenCount", "token_count"):
                raise _AUDIO
    prompt = _count(usage, "promptTokenCount", "prompt_token_count")
    tools = _count(usage, "toolUsePromptTokenCount", "tool_use_prompt_token_count")
    output = _count(usage, "candidatesTokenCount", "candidates_token_count")
    thoughts = _count(usage, "thoughtsTokenCount", "thoughts_token_count")
    cached = _count(usage, "cachedContentTokenCount", "cached_content_token_count")
    return prompt + tools, output + thoughts, cached, 0


_AUDIO = ValueError(
    "audio tokens are billed at audio prices, which cost() does not price: "
    "this response cannot be priced exactly"
)


def _no_audio(*details: Any) -> None:
    if any(_count(d, "audio_tokens") for d in details):
        raise _AUDIO


def _first(obj: Any, *names: str) -> Any:
    """The first of ``names`` that ``obj`` has and is not None (a key or an attribute)."""
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def _has(obj: Any, *names: str) -> bool:
    return _first(obj, *names) is not None


def _count(obj: Any, *names: str) -> int:
    """A token count: a whole number >= 0 (0 when the response leaves it out)."""
    value = None if obj is None else _first(obj, *names)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{names[0]} is not a token count: {value!r}")
    return value


def _fields(obj: Any) -> str:
    """A few of the fields ``obj`` has, to say what was given."""
    try:
        keys = list(obj) if isinstance(obj, dict) else [k for k in vars(obj) if k[0] != "_"]
    except TypeError:  # no fields at all (a number, a string)
        keys = []
    return "with " + ", ".join(sorted(map(str, keys))[:8]) if keys else "without fields"
