"""The online application form: the questions follow from the product's data, answers become
the insured's facts, cover starts the next day, and a phone only ever uses its own party."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.policies.application import (
    HEALTH,
    MEDICAL,
    MEDICAL_CITY,
    declare,
    online_start,
    questions_for,
    require_own_party,
    sold_online,
)
from baoxian.policies.certificate import verification_code
from baoxian.policies.model import new_person
from baoxian.shared.errors import ValidationFailed
from baoxian.shared.identity import resident_id_check_digit

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
ON = date(2026, 3, 15)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(CatalogRepository(CATALOG))


def test_each_product_asks_what_its_rules_and_tables_read(catalog: Catalog) -> None:
    assert questions_for(catalog.plan_on("BJ-HMB", ON)) == (MEDICAL_CITY,)
    assert questions_for(catalog.plan_on("LTM-15", ON)) == (MEDICAL, HEALTH)


def test_only_cover_for_a_person_is_sold_online(catalog: Catalog) -> None:
    online = {p.code: sold_online(p) for p in catalog.products()}
    assert online == {
        "BJ-HMB": True,
        "LTM-15": True,
        "PAR-ENT": False,
        "MOTOR-NEV": False,
        "PENSION-ANN": False,
        "TY-INDEX": False,
    }


@pytest.mark.parametrize(
    ("answer", "facts"),
    [
        ("beijing", {"has_basic_medical": True, "medical_insurance_city": "110000"}),
        ("other", {"has_basic_medical": True, "medical_insurance_city": ""}),
        ("none", {"has_basic_medical": False, "medical_insurance_city": ""}),
    ],
)
def test_the_medical_insurance_answer_becomes_facts(answer: str, facts: dict[str, object]) -> None:
    assert declare((MEDICAL_CITY,), {"medical_insurance": [answer]}).facts == facts


def test_the_health_declaration_lists_the_conditions_ticked() -> None:
    declared = declare((HEALTH,), {"health": ["diabetes", "stroke", "diabetes"]})
    assert declared.conditions == ("diabetes", "stroke")
    assert declare((HEALTH,), {"health": ["none"]}).conditions == ()


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        ({}, "application.unanswered"),
        ({"medical_insurance": ["beijing", "none"]}, "application.invalid_answer"),
        ({"medical_insurance": ["mars"]}, "application.invalid_answer"),
        (
            {"medical_insurance": ["none"], "health": ["none", "stroke"]},
            "application.contradictory_answer",
        ),
    ],
)
def test_bad_answers_are_refused_with_a_reason(answers: dict[str, list[str]], code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        declare((MEDICAL_CITY, HEALTH), answers)
    assert refused.value.code == code


def test_cover_bought_online_starts_the_next_day() -> None:
    assert online_start(date(2026, 12, 31)) == date(2027, 1, 1)


def test_a_party_of_another_phone_or_name_is_refused() -> None:
    id_number = "11010519810415031" + resident_id_check_digit("11010519810415031")
    person = new_person("P1", "王建国", id_number, "13987654321")
    assert require_own_party(person, " 王建国 ", "13987654321") is person
    with pytest.raises(ValidationFailed) as other_phone:
        require_own_party(person, "王建国", "13812345678")
    assert other_phone.value.code == "application.id_registered_to_another_mobile"
    with pytest.raises(ValidationFailed) as other_name:
        require_own_party(person, "王建", "13987654321")
    assert other_name.value.code == "application.name_mismatch"


def test_the_verification_code_changes_with_the_policy_version() -> None:
    key = b"k" * 32
    code = verification_code(key, "BJHMB202600000001", 0)
    assert len(code) == 19 and code.count("-") == 3 and code == code.upper()
    assert code == verification_code(key, "BJHMB202600000001", 0)
    assert code != verification_code(key, "BJHMB202600000001", 1)
    assert code != verification_code(b"x" * 32, "BJHMB202600000001", 0)
