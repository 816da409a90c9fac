"""Pinyin initials for searching Chinese names with a Latin keyboard (张伟 -> zw)."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def initials(name: str) -> str:
    # Non-Chinese runs (Latin letters, digits) are kept as they are; only their characters matter below.
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda chars: chars.lower())
    return "".join(ch for part in letters for ch in part.lower() if ch.isalnum())[:64]
