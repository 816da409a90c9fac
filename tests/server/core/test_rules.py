"""Identifier check digits, pinyin initials and the masking rules."""

import pytest

from server.masking import mask
from server.pinyin import initials
from server.validators import is_valid_credit_code, is_valid_id_number, is_valid_mobile


@pytest.mark.parametrize(
    "code, valid",
    [
        ("91350100M000100Y43", True),  # published example
        ("91350100M000100Y44", False),  # wrong check character
        ("91350100M000100Y4", False),  # too short
        ("91350100M000100YI3", False),  # I is not in the alphabet
    ],
)
def test_unified_social_credit_code(code, valid):
    assert is_valid_credit_code(code) is valid


@pytest.mark.parametrize(
    "number, valid",
    [
        ("11010519491231002X", True),  # GB 11643 example
        ("110105194912310021", False),  # wrong check digit
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),
    ],
)
def test_resident_id_number(number, valid):
    assert is_valid_id_number(number) is valid


def test_mobile():
    assert is_valid_mobile("13812345678")
    assert not is_valid_mobile("12812345678")
    assert not is_valid_mobile("1381234567")


def test_masking_rules():
    assert mask("phone", "13812345678") == "138****5678"
    assert mask("id_number", "11010519491231002X") == "1" + "*" * 16 + "X"
    assert mask("card_number", "6225880123451234") == "622588******1234"
    assert mask("phone", None) is None
    assert mask("id_number", "12") == "**"


def test_pinyin_initials():
    assert initials("张伟") == "zw"
    assert initials("招商银行") == "zsyx" or initials("招商银行") == "zsyh"
    assert initials("ABC科技") == "abckj"
