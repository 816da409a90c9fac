"""The one masking function for personal data. Rules per field: (keep first N, keep last M).
`mask_sql` is its twin for values masked inside a SQL statement; a test checks the two agree."""

from __future__ import annotations

from flask import current_app, has_app_context

DEFAULT_RULES: dict[str, tuple[int, int]] = {
    "phone": (3, 4),
    "id_number": (1, 1),
    "card_number": (6, 4),
    "person_name": (1, 0),
    "company_name": (2, 4),
}
# Fields whose mask has a fixed number of stars, so the mask does not reveal the value's length.
_FIXED_STARS = {"person_name": 2}
_MIN_PHONE_STARS = 4
# `mask_sql` takes its stars from a literal of this length (no portable SQL repeat()): values of up to
# this many hidden characters mask exactly as `mask` does; phone numbers are at most 20 characters.
_SQL_MAX_STARS = 64


def _rules() -> dict[str, tuple[int, int]]:
    if has_app_context():
        configured = current_app.config["SETTINGS"].MASK_RULES
        return {**DEFAULT_RULES, **{k: (int(v[0]), int(v[1])) for k, v in configured.items()}}
    return DEFAULT_RULES


def mask(field: str, value: str | None) -> str | None:
    """phone 13812345678 -> 138****5678; id_number -> 1****************X; card -> 622588******1234;
    person_name 王小明 -> 王** (the surname only); email zhang.wei@bank.cn -> z***@bank.cn."""
    if value is None or value == "":
        return value
    if field == "email":
        # zhang.wei@bank.cn -> z***@bank.cn: the first character and the domain, a fixed 3 stars
        local, _, domain = value.partition("@")
        return (local[:1] + "***" + ("@" + domain if domain else "")) if local else "***@" + domain
    keep_first, keep_last = _rules().get(field, (0, 0))
    if field in _FIXED_STARS:
        return value[:keep_first] + "*" * _FIXED_STARS[field]
    if field == "phone":
        # Phones always hide a fixed 4 so the mask itself does not reveal the length.
        hidden = max(len(value) - keep_first - keep_last, 0)
        return value[:keep_first] + "*" * max(hidden, _MIN_PHONE_STARS) + value[len(value) - keep_last :]
    if len(value) <= keep_first + keep_last:
        return "*" * len(value)
    return value[:keep_first] + "*" * (len(value) - keep_first - keep_last) + value[len(value) - keep_last :]


def mask_sql(field: str, expr: str) -> str:
    """`mask(field, <expr>)` as a SQL expression that SQLite and PostgreSQL both evaluate, for masks
    applied inside a statement (e.g. a summary built by INSERT ... SELECT). `expr` is trusted SQL (a
    column), never user input."""
    keep_first, keep_last = _rules().get(field, (0, 0))
    length = f"length({expr})"
    first = f"substr({expr}, 1, {keep_first})"
    # value[len - keep_last:] in Python: the last keep_last characters; for a shorter value the negative
    # start counts from the end again (len - keep_last + len), and below zero takes it all.
    last = (
        f"(CASE WHEN {length} >= {keep_last} THEN substr({expr}, {length} - {keep_last} + 1) "
        f"WHEN 2 * {length} > {keep_last} THEN substr({expr}, 2 * {length} - {keep_last} + 1) ELSE {expr} END)"
        if keep_last
        else "''"
    )

    def stars(count: str) -> str:
        return f"substr('{'*' * _SQL_MAX_STARS}', 1, {count})"

    kept = keep_first + keep_last
    if field in _FIXED_STARS:
        body = f"{first} || '{'*' * _FIXED_STARS[field]}'"
    elif field == "phone":
        hidden = f"(CASE WHEN {length} - {kept} > {_MIN_PHONE_STARS} THEN {length} - {kept} ELSE {_MIN_PHONE_STARS} END)"
        body = f"{first} || {stars(hidden)} || {last}"
    else:
        body = (
            f"(CASE WHEN {length} <= {kept} THEN {stars(length)} "
            f"ELSE {first} || {stars(f'{length} - {kept}')} || {last} END)"
        )
    return f"(CASE WHEN {expr} IS NULL OR {expr} = '' THEN {expr} ELSE {body} END)"
