"""The fields ``tests/fixtures/demo_expected.json`` holds for each model of the demo mirror
and for each of its provider offers, as the catalog names them."""

MODEL_FIELDS = [
    "display_name",
    "provider_family",
    "provider_family_key",
    "release_date",
    "context_window_tokens",
    "max_output_tokens",
    "input_modalities",
    "output_modalities",
    "supports_tool_use",
    "supports_computer_use",
    "supports_cache_control",
]
OFFER_FIELDS = [
    "provider",
    "region",
    "context_window_tokens",
    "max_output_tokens",
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
]
