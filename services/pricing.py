"""Estimated cost of a call from the model's list price per million tokens."""
from __future__ import annotations

from services.providers.base import ModelInfo


def estimate_cost(info: ModelInfo, input_tokens: int | None, output_tokens: int | None) -> tuple[float | None, str | None]:
    """(cost, currency) for priced models; (None, None) when the price is unknown."""
    if info.price_in is None or info.price_out is None:
        return None, None
    cost = ((input_tokens or 0) * info.price_in + (output_tokens or 0) * info.price_out) / 1_000_000
    return round(cost, 6), info.currency
