"""The one masking function for personal data. Rules per field: (keep first N, keep last M)."""

from __future__ import annotations

from flask import current_app, has_app_context

DEFAULT_RULES: dict[str, tuple[int, int]] = {"phone": (3, 4), "id_number": (1, 1), "card_number": (6, 4), "company_name": (2, 4)}


def _rules() -> dict[str, tuple[int, int]]:
    if has_app_context():
        configured = current_app.config["SETTINGS"].MASK_RULES
        return {k: (int(v[0]), int(v[1])) for k, v in configured.items()}
    return DEFAULT_RULES


def mask(field: str, value: str | None) -> str | None:
    """phone 13812345678 -> 138****5678; id_number -> 1****************X; card -> 622588******1234."""
    if value is None or value == "":
        return value
    keep_first, keep_last = _rules().get(field, (0, 0))
    if field == "phone":
        # Phones always hide a fixed 4 so the mask itself does not reveal the length.
        hidden = max(len(value) - keep_first - keep_last, 0)
        return value[:keep_first] + "*" * max(hidden, 4) + value[len(value) - keep_last :]
    if len(value) <= keep_first + keep_last:
        return "*" * len(value)
    return value[:keep_first] + "*" * (len(value) - keep_first - keep_last) + value[len(value) - keep_last :]
