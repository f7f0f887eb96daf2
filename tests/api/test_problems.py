"""Errors are ``application/problem+json``, mapped in one place: invalid requests name each
field in Chinese and English, domain errors keep their code, anything unexpected is a 500
without a traceback, and the log masks personal data (SQLite)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import Mount

from baoxian.api.app import create_api
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from tests.api.conftest import WANG_ID, WANG_MOBILE, Api, claim_body, quote_body

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "zh", "en"}


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    upgrade(blank_engine)
    return blank_engine


def test_an_invalid_request_names_every_field(partner: Api) -> None:
    body = quote_body()
    del body["start"]
    body["holder"]["id_number"] = "12345"
    body["selections"] = {"liability": 500000.0}
    body["colour"] = "blue"
    answer = partner.post("/quotes", body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert set(problem) >= PROBLEM_KEYS and problem["code"] == "request.invalid"
    fields = {e["field"]: e for e in problem["errors"]}
    assert set(fields) == {
        "start",
        "holder.person.id_number",
        "insured.0.person.id_number",
        "selections.liability",
        "colour",
    }
    assert fields["start"]["zh"] == "必填" and fields["start"]["en"] == "Field required"
    assert fields["selections.liability"]["zh"] == '金额应为两位小数的字符串，如 "195.00"'
    assert fields["colour"]["zh"] == "不允许的字段"
    assert "12345" not in answer.text  # input values are never echoed


def test_money_is_a_string_with_two_decimals(partner: Api) -> None:
    policy = partner.policy()
    for amount in (50000, 50000.0, "50000", "50,000.00", "-1.00", "1e5", "12345678901234.00"):
        body = claim_body(policy)
        body["items"][0]["amount"] = amount
        answer = partner.post("/claims", body)
        assert answer.status_code == 422, amount
        assert [e["field"] for e in answer.json()["errors"]] == ["health.items.0.amount"]


def test_a_domain_error_keeps_its_code_and_masks_the_number(partner: Api) -> None:
    wrong = WANG_ID[:-1] + ("0" if WANG_ID[-1] != "0" else "1")  # a bad check digit
    answer = partner.post("/quotes", quote_body(wrong))
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "party.invalid_resident_id"
    assert problem["type"] == "urn:baoxian:problem:party.invalid_resident_id"
    assert wrong not in answer.text and wrong[:3] + "*" * 11 + wrong[-4:] in problem["zh"]


def test_malformed_input_and_unknown_paths_are_problems(partner: Api) -> None:
    broken = partner.client.post(
        "/api/v1/quotes",
        content=b'{"product": ',
        headers={**partner.headers(key="broken-json-1"), "content-type": "application/json"},
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["zh"] == "JSON 格式错误"
    missing = partner.get("/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = partner.client.delete("/api/v1/products", headers=partner.headers())
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"
    bad_path = partner.get("/policies/not a number")
    assert bad_path.status_code == 422 and bad_path.json()["errors"][0]["field"] == "policy_number"


def test_anything_unexpected_is_a_500_without_a_traceback(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    inner = create_api(api.app)

    @inner.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"lost the thread for {WANG_ID} at {WANG_MOBILE}")

    server = Starlette(routes=[Mount("/api/v1", inner)])
    with (
        caplog.at_level(logging.ERROR, logger="baoxian.api"),
        TestClient(server, raise_server_exceptions=False) as client,
    ):
        answer = client.get("/api/v1/boom")
    assert answer.status_code == 500
    assert answer.json() == {
        "type": "urn:baoxian:problem:internal_error",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "the service could not complete the request; try again later",
        "code": "internal_error",
        "zh": "系统繁忙，请稍后再试",
        "en": "the service could not complete the request; try again later",
    }
    (record,) = [r for r in caplog.records if r.name == "baoxian.api"]
    logged = record.getMessage() + (record.exc_text or "")
    assert "RuntimeError" in logged and "Traceback" in logged
    assert WANG_ID not in logged and WANG_MOBILE not in logged
    assert "138****5678" in logged
