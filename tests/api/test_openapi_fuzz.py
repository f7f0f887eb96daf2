"""No input makes a server error: schemathesis generates requests from the published
OpenAPI for every GET and POST operation and sends them to the app in process, with a
valid partner token (SQLite; bounded to a few examples per operation).  The streamed member
batches get their own run against a real group policy (schemathesis would rarely hit an
existing policy number): CSV- and NDJSON-like bodies, and any bytes at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from sqlalchemy import Engine

from baoxian.bootstrap import App
from baoxian.policies.enrolment import MEMBER_COLUMNS
from baoxian.policies.member_files import KEY_COLUMNS, OPTIONAL_COLUMNS
from baoxian.server import create_server
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade
from tests.api.conftest import WANG_ID, Api, claim_body
from tests.api.test_members import group_policy


@pytest.fixture
def blank_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    upgrade(blank_engine)
    return blank_engine


@pytest.fixture
def book(api: Api) -> str:
    """A partner token whose client has a policy and a claim to find (and a rate limit the
    fuzzing stays under: the test clock does not move)."""
    partner = api.as_(api.partner_token(rate=1_000_000))
    policy = partner.policy()
    partner.post("/claims", claim_body(policy))
    assert partner.token
    return partner.token


Operation = APIOperation[Any, Any, Any, Any]

# The member batches take NDJSON as well as CSV: send the generated text as it is.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


def _operations(app: App) -> list[Operation]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_server(app))
    results = list(schema.include(method=["GET", "POST"]).get_all_operations())
    assert all(isinstance(r, Ok) for r in results), "the published OpenAPI is valid"
    return [r.ok() for r in results if isinstance(r, Ok)]


def _no_server_error(operation: Operation, mode: GenerationMode, token: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Case[Operation]) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
        )

    send()


def test_no_input_makes_a_server_error(app: App, book: str) -> None:
    operations = _operations(app)
    assert len(operations) == 35
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _no_server_error(operation, mode, book)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong (no input)
            except BaseException as error:
                error.add_note(f"while fuzzing {operation.label} ({mode.value})")
                raise


_NAMES = st.sampled_from([*MEMBER_COLUMNS, *OPTIONAL_COLUMNS, *KEY_COLUMNS, "x", ""])
_VALUES = st.one_of(
    st.text(max_size=24),
    st.sampled_from([WANG_ID, "13812345678", "110000", "是", "否", "1", '"', ",", "\r"]),
)
_CSV = st.tuples(
    st.lists(_NAMES, max_size=7), st.lists(st.lists(_VALUES, max_size=7), max_size=5)
).map(lambda t: "\n".join([",".join(t[0]), *(",".join(row) for row in t[1])]).encode())
_NDJSON = st.lists(
    st.dictionaries(
        _NAMES, st.one_of(_VALUES, st.booleans(), st.integers(), st.none()), max_size=7
    ),
    max_size=5,
).map(lambda rows: "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode())


def test_no_member_batch_body_makes_a_server_error(api: Api) -> None:
    partner = api.as_(api.partner_token(rate=1_000_000))
    number = group_policy(partner)["policy_number"]

    @given(
        body=st.one_of(_CSV, _NDJSON, st.binary(max_size=200)),
        media=st.sampled_from(["text/csv", "application/x-ndjson"]),
        path=st.sampled_from(["members", "members/removals"]),
    )
    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def send(body: bytes, media: str, path: str) -> None:
        answer = partner.post_body(f"/policies/{number}/{path}", body, media)
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == "application/problem+json"

    send()
