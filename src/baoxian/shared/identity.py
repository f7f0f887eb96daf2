"""Chinese identity numbers: 居民身份证号码 (GB 11643) and 统一社会信用代码 (GB 32100).

Checks use python-stdnum; errors carry a stable code and a bilingual message.

>>> normalise_resident_id("11010519491231002x")
'11010519491231002X'
>>> birth_date_from_id("11010519491231002X")
datetime.date(1949, 12, 31)
>>> gender_from_id("11010519491231002X")
'F'
"""

from __future__ import annotations

from datetime import date
from operator import mul
from typing import Literal

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from baoxian.shared.errors import ValidationFailed

Gender = Literal["M", "F"]

_RIC_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RIC_CHECK = "10X98765432"


def resident_id_check_digit(first17: str) -> str:
    """Check digit of a 身份证号 from its first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17:
        raise ValueError("need the first 17 digits")
    return _RIC_CHECK[sum(map(mul, map(int, first17), _RIC_WEIGHTS)) % 11]


def normalise_resident_id(value: str) -> str:
    """Validate a 18-digit 身份证号 and return it in canonical form (upper-case X)."""
    candidate = value.strip().upper()
    try:
        return str(ric.validate(candidate))
    except StdnumError as exc:
        raise ValidationFailed(
            "party.invalid_resident_id",
            f"身份证号码无效：{mask_id(candidate)}（{_reason_zh(exc)}）",
            f"invalid resident ID number {mask_id(candidate)} ({exc})",
        ) from exc


def is_valid_resident_id(value: str) -> bool:
    """Fast check used in bulk paths: length, digits, check digit and birth date."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    if resident_id_check_digit(value[:17]) != value[17]:
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return True


def birth_date_from_id(value: str) -> date:
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_from_id(value: str) -> Gender:
    """The 17th digit is odd for men and even for women."""
    return "M" if int(value[16]) % 2 == 1 else "F"


def normalise_credit_code(value: str) -> str:
    """Validate a 统一社会信用代码 and return it upper-case."""
    candidate = value.strip().upper()
    try:
        return str(uscc.validate(candidate))
    except StdnumError as exc:
        raise ValidationFailed(
            "party.invalid_credit_code",
            f"统一社会信用代码无效：{candidate}（{_reason_zh(exc)}）",
            f"invalid unified social credit code {candidate} ({exc})",
        ) from exc


def mask_id(value: str) -> str:
    """Mask an ID number for display and logs: first 3 and last 4 characters kept."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "****" + value[-4:]


def normalise_mobile(value: str) -> str:
    """Validate a mainland mobile number (11 digits starting with 1[3-9])."""
    candidate = value.strip().replace(" ", "").replace("-", "")
    if candidate.startswith("+86"):
        candidate = candidate[3:]
    if len(candidate) != 11 or not candidate.isdigit() or candidate[0] != "1" or candidate[1] < "3":
        raise ValidationFailed(
            "party.invalid_mobile",
            f"手机号码无效：{candidate}",
            f"invalid mobile number: {candidate}",
        )
    return candidate


def _reason_zh(exc: StdnumError) -> str:
    names = {
        "InvalidChecksum": "校验码错误",
        "InvalidLength": "长度错误",
        "InvalidFormat": "格式错误",
        "InvalidComponent": "出生日期或地区码错误",
    }
    return names.get(type(exc).__name__, "格式错误")
