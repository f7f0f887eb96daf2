"""The online application form (投保单): which questions a product asks, what the answers
declare, when cover bought online starts, and whose party a phone may use — pure.

The questions follow from the product's data: a plan whose eligibility rules or rating
tables read the insured's basic medical insurance asks about it; one whose rules read
``declared_conditions`` asks for a health declaration (健康告知).  Age and sex come from the
身份证号 and are never asked.  Answers are declarations for this quote: they become the
insured's facts on the quote, not changes to the registered person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from baoxian.catalog.model import CompiledPlan
from baoxian.catalog.schema import Product
from baoxian.policies.model import Person
from baoxian.shared.errors import ValidationFailed

BEIJING = "110000"  # the 医保 city code of Beijing
NONE_OF_THESE = "none"


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Question:
    """A question of the form; ``multiple`` questions are ticked lists."""

    code: str
    zh: str
    en: str
    choices: tuple[Choice, ...]
    multiple: bool = False


@dataclass(frozen=True, slots=True)
class Declaration:
    """What the answers declare: facts of the insured on this quote, and conditions."""

    facts: Mapping[str, Any]
    conditions: tuple[str, ...] = ()


MEDICAL_CITY = Question(
    "medical_insurance",
    "您参加的是哪里的基本医疗保险（医保）？",
    "Which basic medical insurance (医保) are you enrolled in?",
    (
        Choice("beijing", "北京市基本医疗保险", "Beijing basic medical insurance"),
        Choice("other", "其他城市的基本医疗保险", "Another city's basic medical insurance"),
        Choice("none", "没有参加基本医疗保险", "I have no basic medical insurance"),
    ),
)
MEDICAL = Question(
    "medical_insurance",
    "您是否参加了基本医疗保险（医保）？",
    "Are you enrolled in basic medical insurance (医保)?",
    (
        Choice("yes", "是，已参加", "Yes, I am enrolled"),
        Choice("none", "没有参加", "No, I am not"),
    ),
)
HEALTH = Question(
    "health",
    "健康告知：过去两年内，您是否患有或正在治疗下列疾病？可多选；都没有请选「以上都没有」。",
    "Health declaration: in the past two years, have you had or been treated for any of "
    "these? Tick all that apply, or 'None of these'.",
    (
        Choice("malignant_tumour", "恶性肿瘤（癌症）", "Cancer (malignant tumour)"),
        Choice("heart_disease", "冠心病、心肌梗死等心脏疾病", "Heart disease (e.g. heart attack)"),
        Choice("stroke", "脑卒中（中风）", "Stroke"),
        Choice("diabetes", "糖尿病", "Diabetes"),
        Choice("kidney_disease", "慢性肾病或肾功能不全", "Chronic kidney disease"),
        Choice("liver_cirrhosis", "肝硬化", "Cirrhosis of the liver"),
        Choice(NONE_OF_THESE, "以上都没有", "None of these"),
    ),
    multiple=True,
)


def sold_online(product: Product) -> bool:
    """Sold to a person on the portal: individual cover whose risk unit is a person.  Property
    and motor need a survey or vehicle details: the customer is asked to contact us.  A
    pension with an account (专属商业养老保险) is not sold online yet: the form does not ask
    the payment years, the annuity option or the automatic premium loan election."""
    return (
        "individual" in product.issuance
        and product.risk_unit == "person"
        and all(v.account is None for v in product.versions)
    )


def online_start(today: date) -> date:
    """Cover bought online starts at 00:00 the next day (T+1): never backdated."""
    return today + timedelta(days=1)


def facts_read(plan: CompiledPlan) -> frozenset[str]:
    """The insured's facts the plan's eligibility rules and rating tables read."""
    tables = {
        name for table in plan.plan.rating.tables for row in table.rows for name in row.when
    } | {name for table in plan.plan.rating.tables for row in table.rows for name in row.between}
    rules = plan.rule_fields
    if rules is None:  # a rule reads the insured as a whole: ask everything
        return frozenset({"has_basic_medical", "medical_insurance_city", "declared_conditions"})
    return frozenset(tables | set(rules))


def questions_for(plan: CompiledPlan) -> tuple[Question, ...]:
    """The questions this plan needs answered, in the order they are asked."""
    read = facts_read(plan)
    questions: list[Question] = []
    if "medical_insurance_city" in read:
        questions.append(MEDICAL_CITY)
    elif "has_basic_medical" in read:
        questions.append(MEDICAL)
    if "declared_conditions" in read:
        questions.append(HEALTH)
    return tuple(questions)


def declare(questions: Sequence[Question], answers: Mapping[str, Sequence[str]]) -> Declaration:
    """The facts the answers declare; every question must be answered with its own choices."""
    facts: dict[str, Any] = {}
    conditions: tuple[str, ...] = ()
    for question in questions:
        chosen = _checked(question, answers.get(question.code, ()))
        if question.code == "medical_insurance":
            facts["has_basic_medical"] = chosen[0] != "none"
            facts["medical_insurance_city"] = BEIJING if chosen[0] == "beijing" else ""
        elif question.code == "health":
            conditions = tuple(c for c in chosen if c != NONE_OF_THESE)
    return Declaration(facts, conditions)


def _checked(question: Question, given: Sequence[str]) -> tuple[str, ...]:
    allowed = {c.value for c in question.choices}
    chosen = tuple(dict.fromkeys(v for v in given if v))
    if not chosen:
        raise ValidationFailed(
            "application.unanswered",
            f"请回答：{question.zh}",
            f"Please answer: {question.en}",
            question=question.code,
        )
    if any(v not in allowed for v in chosen) or (not question.multiple and len(chosen) > 1):
        raise ValidationFailed(
            "application.invalid_answer",
            f"答案无效，请重新选择：{question.zh}",
            f"That answer is not one of the choices: {question.en}",
            question=question.code,
        )
    if NONE_OF_THESE in chosen and len(chosen) > 1:
        raise ValidationFailed(
            "application.contradictory_answer",
            "「以上都没有」不能与其他选项同时选择",
            "'None of these' cannot be ticked together with another answer",
            question=question.code,
        )
    return chosen


def require_own_party(person: Person, name: str, mobile: str) -> Person:
    """A phone may apply only with a party registered with that phone.  If the 身份证号 is
    already registered with another mobile (or another name), refuse: never attach someone
    else's party to this phone."""
    if person.mobile != mobile:
        raise ValidationFailed(
            "application.id_registered_to_another_mobile",
            "该身份证号已登记了其他手机号，无法用本手机号投保。请使用登记的手机号登录，"
            "或致电 95500 更正。",
            "This ID number is registered with another mobile number, so it cannot be used "
            "with this one. Sign in with the registered number, or call 95500 to correct it.",
        )
    if person.name != name.strip():
        raise ValidationFailed(
            "application.name_mismatch",
            "姓名与该身份证号登记的姓名不一致，请核对。",
            "The name does not match the name registered with this ID number; please check it.",
        )
    return person


__all__ = [
    "HEALTH",
    "MEDICAL",
    "MEDICAL_CITY",
    "Choice",
    "Declaration",
    "Question",
    "declare",
    "facts_read",
    "online_start",
    "questions_for",
    "require_own_party",
    "sold_online",
]
