"""Synthetic population: identity numbers, determinism, geography, plates and VINs."""

from __future__ import annotations

import doctest
import re
from collections import Counter
from datetime import date

import pytest
from stdnum.cn import ric, uscc

from baoxian.demo import population
from baoxian.demo.population import (
    CITIES,
    City,
    FakePerson,
    city_by_code,
    generate_organisations,
    generate_people,
    generate_sites,
    generate_vehicles,
)
from baoxian.shared.identity import (
    is_valid_resident_id,
    normalise_credit_code,
    normalise_mobile,
    resident_id_check_digit,
)

AS_OF = date(2025, 6, 30)
MOBILE_PREFIX = re.compile(r"^1(3\d|5[0-35-9]|7[0-35-8]|8\d|9[135-9])\d{8}$")


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _county(code: str, year: int) -> str:
    """County name python-stdnum reports for ``code`` in ``year`` (raises if not valid then)."""
    first17 = f"{code}{year:04d}0101001"
    info = ric.get_birth_place(first17 + resident_id_check_digit(first17))
    return re.sub(r"^\[\d*-\d*\]", "", info["county"])


@pytest.fixture(scope="module")
def people() -> list[FakePerson]:
    return list(generate_people(20240630, 20_000, as_of=AS_OF))


# --- cities --------------------------------------------------------------------------------


def test_cities_cover_the_country() -> None:
    assert len(CITIES) >= 40
    assert len({c.province for c in CITIES}) >= 20
    assert len({c.region_code for c in CITIES}) == len(CITIES)
    names = {c.city_en for c in CITIES}
    for required in (
        "Beijing", "Shanghai", "Guangzhou", "Shenzhen", "Hangzhou", "Ningbo", "Wenzhou",
        "Xiamen", "Fuzhou", "Haikou", "Sanya", "Zhanjiang", "Chengdu", "Wuhan", "Xi'an",
    ):  # fmt: skip
        assert required in names
    beijing = city_by_code("110000")
    assert beijing.city == "北京市"
    for district in (
        ("110101", "东城区"), ("110102", "西城区"), ("110105", "朝阳区"),
        ("110106", "丰台区"), ("110108", "海淀区"),
    ):  # fmt: skip
        assert district in beijing.districts


def test_city_fields_are_consistent() -> None:
    coastal_provinces = {
        "广东省", "福建省", "浙江省", "海南省", "上海市", "江苏省", "山东省",
        "广西壮族自治区", "辽宁省", "天津市", "河北省",
    }  # fmt: skip
    all_codes = [code for c in CITIES for code, _ in c.districts]
    assert len(all_codes) == len(set(all_codes))
    for city in CITIES:
        assert re.fullmatch(r"\d{6}", city.region_code)
        assert 3 <= len(city.districts) <= 6
        prefix = city.region_code[:2] if city.region_code.endswith("0000") else city.region_code[:4]
        assert all(code.startswith(prefix) for code, _ in city.districts)
        assert 18 < city.latitude < 54 and 73 < city.longitude < 135
        if city.coastal:
            assert city.province in coastal_provinces, city.city
    assert city_by_code("440300").coastal and city_by_code("460200").coastal
    assert not city_by_code("510100").coastal and not city_by_code("110000").coastal


def test_every_district_code_is_real_and_named_as_stored() -> None:
    for city in CITIES:
        for code, name in city.districts:
            assert _county(code, 2024) == name, (code, name)


def test_address_code_tables_agree_with_stdnum_for_every_birth_year() -> None:
    """Each code the generator may put in an ID for a given birth year is valid in that year."""
    for year in range(1920, 2031):
        candidates = population._id_candidates_for_year(year)
        assert all(candidates)
        for code in {option.code for options in candidates for option in options}:
            _county(code, year)  # raises InvalidComponent if not valid in that year


# --- people --------------------------------------------------------------------------------


def test_people_have_valid_consistent_resident_ids(people: list[FakePerson]) -> None:
    for person in people:
        number = person.id_number
        assert ric.is_valid(number), number
        assert number[6:14] == person.birth_date.strftime("%Y%m%d")
        assert number[16] in ("13579" if person.gender == "M" else "02468")
    assert all(is_valid_resident_id(p.id_number) for p in people[:1000])
    assert {p.gender for p in people} == {"M", "F"}


def test_id_address_code_belongs_to_the_city(people: list[FakePerson]) -> None:
    own_district = 0
    for person in people:
        meta = population._meta(person.city)
        city_codes = {code for code, _ in person.city.districts}
        legacy_codes = {code for code, _, _ in meta.legacy}
        assert person.id_number[:6] in city_codes | legacy_codes
        district_code = {n: c for c, n in person.city.districts}[person.district]
        # The residence district's own code whenever it existed in the birth year (its name
        # may have differed then, e.g. 340103 was 中市区 until 2001); otherwise an older code.
        own_district += person.id_number[:6] == district_code
    # Most urban codes only date from 1983, so people born earlier usually carry an older code.
    assert own_district > len(people) // 3


def test_id_numbers_are_unique(people: list[FakePerson]) -> None:
    assert len({p.id_number for p in people}) == len(people)


def test_mobile_name_and_address(people: list[FakePerson]) -> None:
    for person in people[:5000]:
        assert normalise_mobile(person.mobile) == person.mobile
        assert MOBILE_PREFIX.match(person.mobile), person.mobile
        assert 2 <= len(person.name) <= 4
        assert person.district in {name for _, name in person.city.districts}
        head = (
            person.city.city
            if person.city.province == person.city.city
            else (person.city.province + person.city.city)
        )
        assert person.address.startswith(head + person.district)
        assert re.search(r"\d+号(\d+(栋|幢|号楼)\d+室)?$", person.address), person.address
    surnames = Counter(p.name[0] for p in people)
    assert {s for s, _ in surnames.most_common(5)} <= set("王李张刘陈杨黄赵")
    assert any(p.name.startswith(("欧阳", "司马", "诸葛", "上官")) for p in people)
    genders = Counter(p.gender for p in people)
    assert 0.45 < genders["M"] / len(people) < 0.55


@pytest.mark.parametrize(("min_age", "max_age"), [(0, 85), (18, 18), (60, 100), (0, 0)])
def test_ages_within_bounds(min_age: int, max_age: int) -> None:
    ages = [
        _age(p.birth_date, AS_OF)
        for p in generate_people(7, 2000, as_of=AS_OF, min_age=min_age, max_age=max_age)
    ]
    assert min(ages) >= min_age and max(ages) <= max_age
    assert max(ages) - min(ages) >= min(max_age - min_age, 30) * 0.8


def test_ages_are_weighted_toward_working_age(people: list[FakePerson]) -> None:
    ages = [_age(p.birth_date, AS_OF) for p in people]
    working = sum(25 <= a <= 65 for a in ages) / len(ages)
    assert working > 0.6  # uniform over 0–85 would give 0.48
    assert sum(a < 18 for a in ages) > 0 and sum(a > 75 for a in ages) > 0


def test_people_are_deterministic() -> None:
    first = list(generate_people(99, 500, as_of=AS_OF))
    assert first == list(generate_people(99, 500, as_of=AS_OF))
    assert first != list(generate_people(100, 500, as_of=AS_OF))
    assert len(first) == 500


def test_people_argument_checks() -> None:
    with pytest.raises(ValueError):
        generate_people(1, -1, as_of=AS_OF)
    with pytest.raises(ValueError):
        generate_people(1, 10, as_of=AS_OF, min_age=50, max_age=40)


# --- organisations ---------------------------------------------------------------------------


def _org_code_check(body: str) -> str:
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    value = 11 - sum(int(c, 36) * w for c, w in zip(body, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def test_organisations() -> None:
    orgs = list(generate_organisations(5, 2000))
    assert orgs == list(generate_organisations(5, 2000))
    assert len({o.credit_code for o in orgs}) == len(orgs)
    for org in orgs:
        assert uscc.is_valid(org.credit_code), org.credit_code
        assert normalise_credit_code(org.credit_code) == org.credit_code
        assert org.credit_code[2:8] == org.city.region_code
        assert org.credit_code[16] == _org_code_check(org.credit_code[8:16])
        assert org.name.startswith(org.city.city) and org.name.endswith("有限公司")
        assert org.name_en.startswith(org.city.city_en + " ")
        assert org.name_en.endswith(("Co., Ltd.", "Corp., Ltd."))
        assert org.industry
        assert any(name in org.address for _, name in org.city.districts)


# --- sites ---------------------------------------------------------------------------------


def test_sites() -> None:
    sites = list(generate_sites(11, 3000))
    assert sites == list(generate_sites(11, 3000))
    for site in sites:
        assert abs(site.latitude - site.city.latitude) < 0.3
        assert abs(site.longitude - site.city.longitude) < 0.3
        assert site.latitude == round(site.latitude, 6)
        assert 2_000_000_00 <= site.sum_insured_fen <= 300_000_000_00
        assert site.sum_insured_fen % 1_000_000 == 0  # whole 10,000 CNY
        assert site.occupancy in {
            "office", "warehouse", "light_manufacturing", "heavy_manufacturing", "retail",
        }  # fmt: skip
        assert site.name and site.address.endswith("号")
    classes = Counter(s.construction_class for s in sites)
    assert set(classes) == {"A", "B", "C", "D"}
    assert classes["B"] > classes["A"] > classes["C"] > classes["D"]
    harbin = city_by_code("230100")
    assert all(s.city is harbin for s in generate_sites(3, 200, city=harbin))


# --- vehicles ------------------------------------------------------------------------------

_VIN_VALUE = {
    **{str(d): d for d in range(10)},
    **{c: "ABCDEFGH".index(c) + 1 for c in "ABCDEFGH"},
    **{c: "JKLMN".index(c) + 1 for c in "JKLMN"},
    "P": 7,
    "R": 9,
    **{c: "STUVWXYZ".index(c) + 2 for c in "STUVWXYZ"},
}
_VIN_WEIGHT = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def _vin_check(vin: str) -> str:
    remainder = sum(_VIN_VALUE[c] * w for c, w in zip(vin, _VIN_WEIGHT, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


@pytest.mark.parametrize(
    ("region_code", "plate_prefix"),
    [
        ("440300", r"粤B"),
        ("440100", r"粤A"),
        ("110000", r"京[A-Q]"),
        ("310000", r"沪[A-Z]"),
        ("330100", r"浙A"),
        ("510100", r"川A"),
        ("460200", r"琼B"),
    ],
)
def test_vehicles(region_code: str, plate_prefix: str) -> None:
    city: City = city_by_code(region_code)
    cars = list(generate_vehicles(8, 1000, city=city, as_of=AS_OF))
    assert cars == list(generate_vehicles(8, 1000, city=city, as_of=AS_OF))
    for car in cars:
        assert re.fullmatch(r"[0-9A-HJ-NPR-Z]{17}", car.vin), car.vin
        assert car.vin[8] == _vin_check(car.vin), car.vin
        if car.energy == "nev":
            assert re.fullmatch(plate_prefix + r"·[DF][0-9A-HJ-NP-Z]\d{4}", car.plate), car.plate
        else:
            assert car.energy == "petrol"
            assert re.fullmatch(plate_prefix + r"·[0-9A-HJ-NP-Z]{5}", car.plate), car.plate
        assert car.first_registration <= AS_OF
        assert 20_000_00 <= car.new_price_fen <= 600_000_00 and car.new_price_fen % 100 == 0
        assert 2 <= car.seats <= 9 and " " in car.make_model
    nev_share = sum(c.energy == "nev" for c in cars) / len(cars)
    assert 0.33 < nev_share < 0.47


def test_vehicles_before_nevs_existed_are_petrol() -> None:
    cars = list(generate_vehicles(1, 50, city=CITIES[0], as_of=date(2005, 1, 1)))
    assert {c.energy for c in cars} == {"petrol"}


# --- module docstring ----------------------------------------------------------------------


def test_module_doctest() -> None:
    result = doctest.testmod(population)
    assert result.attempted > 0 and result.failed == 0
