"""The wording of the benefit engine's reasons, in Chinese and English — rendered on read.

An EOB step (and a claim-level reason) is stored as its rule code, the amount it removed,
a *wording* code and the wording's arguments (amounts in fen, dates, the plan's names as they
read on the day of the decision), not as finished sentences: a million-claim backlog then
writes a fraction of the bytes, and every screen, API answer and letter renders the same
sentences from the same arguments.  An EOB stored before this form carries ``zh`` and ``en``
themselves; :func:`step_texts` reads both forms.

>>> render("deductible_shared", ("住院", "inpatient", 1_800_000, 25_050))
('共用年度免赔额（住院） 18,000.00 元，本年已用 250.50 元', 'shared annual deductible (inpatient) of 18,000.00 CNY, 250.50 used this year')
>>> step_texts({"text": "co_payment", "args": ["60%"]})
('按赔付比例 60% 赔付', 'payout ratio 60%')
>>> step_texts({"zh": "旧的说明", "en": "an older reason"})
('旧的说明', 'an older reason')
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["WORDINGS", "Arg", "Wording", "render", "step_texts"]

Arg = str | int
"""A wording's argument: text (a date, a name, a percentage) or an amount in fen."""


@dataclass(frozen=True, slots=True)
class Wording:
    """A reason's sentence in both languages (``str.format`` fields by position); the
    arguments at ``money`` are fen, shown as yuan with thousands separators."""

    zh: str
    en: str
    money: frozenset[int] = frozenset()


WORDINGS: Mapping[str, Wording] = {
    "policy_not_in_force": Wording(
        "出险日 {0} 不在被保险人的保障期间（{1} 至 {2} 前一日）内，或保单已终止",
        "the date of loss {0} is outside the insured's cover ({1} to the day before {2}) "
        "or the policy had ended",
    ),
    "waiting_period": Wording(
        "出险日在 {0} 天等待期内（{1} 前），非意外不予赔付",
        "illness within the {0}-day waiting period (before {1})",
    ),
    "not_covered": Wording(
        "费用类别「{0}」不属于本保单保障范围", "item category '{0}' is not covered by this policy"
    ),
    "paid_by_basic_insurance": Wording(
        "基本医疗保险已支付部分先行扣除", "amount already paid by basic medical insurance"
    ),
    "drug_not_on_list": Wording(
        "药品 {0} 不在本产品特药清单内", "drug {0} is not on the product's special-drug list"
    ),
    "not_designated_provider": Wording(
        "未在指定药店或医院购药，不予赔付", "not bought at a designated pharmacy or hospital"
    ),
    "deductible_per_claim": Wording(
        "每次事故免赔额 {0} 元", "per-claim deductible of {0} CNY", frozenset({0})
    ),
    "deductible_annual": Wording(
        "年度免赔额 {0} 元，本年已用 {1} 元",
        "annual deductible of {0} CNY, {1} used this year",
        frozenset({0, 1}),
    ),
    "deductible_shared": Wording(
        "共用年度免赔额（{0}） {2} 元，本年已用 {3} 元",
        "shared annual deductible ({1}) of {2} CNY, {3} used this year",
        frozenset({2, 3}),
    ),
    "co_payment": Wording("按赔付比例 {0} 赔付", "payout ratio {0}"),
    "co_payment_pre_existing": Wording(
        "按赔付比例 {0} 赔付（既往症）", "payout ratio {0} (pre-existing condition)"
    ),
    "sub_limit": Wording(
        "超过分项限额「{0}」 {2} 元的剩余额度",
        "over what is left of the sub-limit '{1}' of {2} CNY",
        frozenset({2}),
    ),
    "shared_limit": Wording(
        "超过共用保额「{0}」 {2} 元的剩余额度",
        "over what is left of the shared limit '{1}' of {2} CNY",
        frozenset({2}),
    ),
    "sum_insured": Wording(
        "超过保险金额（{0}） {2} 元的剩余额度",
        "over what is left of the sum insured ({1}) of {2} CNY",
        frozenset({2}),
    ),
    "peril_not_covered": Wording("致损原因「{0}」不在保险责任内", "peril '{0}' is not covered"),
    "index_basis": Wording("{0}", "{1}"),
    "basement_sub_limit": Wording(
        "地下室财产超过分项限额 {0} 元", "basement property over the {0} CNY sub-limit"
    ),
    "property_sum_insured": Wording("超过保险金额剩余额度", "over what is left of the sum insured"),
}


def render(text: str, args: Sequence[Arg]) -> tuple[str, str]:
    """The reason ``text`` with ``args``, in Chinese and in English."""
    wording = WORDINGS[text]
    shown = [
        f"{Decimal(arg).scaleb(-2):,}" if position in wording.money else arg
        for position, arg in enumerate(args)
    ]
    return wording.zh.format(*shown), wording.en.format(*shown)


def step_texts(step: Mapping[str, Any]) -> tuple[str, str]:
    """The (zh, en) of a stored EOB step or reason, in either stored form."""
    if "text" in step:
        return render(str(step["text"]), step.get("args") or ())
    return str(step["zh"]), str(step["en"])
