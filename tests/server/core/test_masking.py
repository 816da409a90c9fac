"""`mask_sql`, the SQL twin of the one masking function, agrees with `mask` on the same inputs, in
the database the tests run on (SQLite or PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from server.masking import DEFAULT_RULES, mask, mask_sql

VALUES = [
    None,
    "",
    "1",
    "12",
    "123",
    "1234567",
    "13812345678",
    "+8613812345678",
    "021-6288 1234 ext. 88",
    "110101199003071234",
    "11010119900307123X",
    "6225880123451234",
    "王",
    "王明",
    "欧阳小明",
    "x" * 60,
]


@pytest.mark.parametrize("field", [*DEFAULT_RULES, "unknown_field"])
def test_sql_twin_masks_exactly_as_mask_does(db_session, field):
    expr = mask_sql(field, "CAST(:v AS VARCHAR(80))")
    for value in VALUES:
        got = db_session.execute(text(f"SELECT {expr}"), {"v": value}).scalar_one()
        assert got == mask(field, value), (field, value)


def test_surname_only_with_a_fixed_mask(app):
    assert mask("person_name", "王明") == "王**" and mask("person_name", "欧阳小明") == "欧**"
    assert mask("person_name", "任小红") == "任**"
    with app.app_context():  # the configured rules, which do not name person_name, keep its default
        assert mask("person_name", "任小红") == "任**"
        assert mask("phone", "13812345678") == "138****5678"
