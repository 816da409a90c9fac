"""Check digits of Chinese identifiers."""

from __future__ import annotations

import re
from datetime import date

# GB 32100-2015 统一社会信用代码
# an e-mail address, loosely: one @, a dotted domain (staff and customers alike)
EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    code = code.upper()
    return bool(_USCC_RE.match(code)) and uscc_check_char(code[:17]) == code[17]


# GB 11643-1999 公民身份号码
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(number: str) -> bool:
    number = number.upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    born = id_birth_date(number)
    return born is not None and born.year >= 1900 and id_check_char(number[:17]) == number[17]


def is_valid_mobile(phone: str) -> bool:
    return bool(re.fullmatch(r"1[3-9]\d{9}", phone))
