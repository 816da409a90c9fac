"""Pinyin initials for searching Chinese names with a Latin keyboard (张伟 -> zw)."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def initials(name: str) -> str:
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors=lambda chars: list(chars.lower()))
    return "".join(ch for part in letters for ch in part.lower() if ch.isalnum())[:64]
