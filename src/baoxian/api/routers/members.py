"""Members of a group policy (团体保单成员): enrol (批量增员) and remove (批量减员) up to
100,000 at a time — the body streamed as CSV or NDJSON, parsed as it is read — read a batch's
report and its rejections, and list the members with their personal data masked.

The routes parse, check who may, call :class:`~baoxian.policies.membership.MembershipService`
in a worker thread and map its report; the body reaches the service as an iterator of chunks,
each awaited from the request's stream (``request.stream()``), so it is never held whole.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio.from_thread
from fastapi import APIRouter, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from baoxian.api import access
from baoxian.api.deps import Ctx, IdempotencyKey, Principal, scoped, service_request_id
from baoxian.api.problems import PROBLEM_JSON, Problem
from baoxian.api.schemas import (
    Day,
    MemberBatchPublic,
    MemberPage,
    RejectionPage,
    member_batch_public,
    member_public,
    rejection_public,
)
from baoxian.policies.member_files import BodyFormat, body_format, member_keys, member_rows
from baoxian.policies.membership import MAX_ROWS

router = APIRouter(tags=["members 团体成员"])

Reader = Annotated[Principal, scoped("members:read")]
Writer = Annotated[Principal, scoped("members:write")]
PolicyNumber = Annotated[str, Path(pattern=r"^[A-Z0-9]{4,32}$", examples=["BJHMB202600000001"])]
BatchId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
Effective = Annotated[
    Day | None,
    Query(
        description="生效日 the day the change takes effect (YYYY-MM-DD), in the policy's "
        "current term; today (Asia/Shanghai) when left out"
    ),
]

BODY_LIMIT_BYTES = 64 * 1024 * 1024
"""100,000 members at up to about 650 bytes each."""
BODY_LIMITS = ((re.compile(r"/policies/[^/]+/members(/removals)?"), BODY_LIMIT_BYTES),)
"""The streamed routes' body limit, for the idempotency middleware."""

_CSV_MEMBERS = (
    "name,id_number,mobile,medical_insurance_city,has_basic_medical,address\n"
    "王建国,110105198104150310,13812345678,110000,是,北京市朝阳区建国路1号\n"
    "李四,110108199007150021,13987654321,110000,1,\n"
)
_NDJSON_MEMBERS = (
    '{"name": "王建国", "id_number": "110105198104150310", "mobile": "13812345678", '
    '"medical_insurance_city": "110000", "has_basic_medical": true}\n'
    '{"name": "李四", "id_number": "110108199007150021", "mobile": "13987654321", '
    '"medical_insurance_city": "110000", "has_basic_medical": true, "address": ""}\n'
)
_CSV_KEYS = "id_number,member_id\n110105198104150310,\n,0197a3c4e5f60718293a4b5c6d7e8f90\n"
_NDJSON_KEYS = (
    '{"id_number": "110105198104150310"}\n{"member_id": "0197a3c4e5f60718293a4b5c6d7e8f90"}\n'
)


def _streamed_body(description: str, csv_example: str, ndjson_example: str) -> dict[str, Any]:
    text = {"type": "string", "maxLength": BODY_LIMIT_BYTES}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "text/csv": {"schema": text, "example": csv_example},
                "application/x-ndjson": {"schema": text, "example": ndjson_example},
            },
        }
    }


_STREAMED_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": f"More than {MAX_ROWS:,} rows (members.too_many_rows) or 64 MiB",
    },
    415: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": "Content-Type is neither text/csv nor application/x-ndjson",
    },
}


@router.post(
    "/policies/{policy_number}/members",
    response_model=MemberBatchPublic,
    status_code=201,
    responses=_STREAMED_ERRORS,
    openapi_extra=_streamed_body(
        "成员名单 the members, one a row: CSV with a header (name, id_number, mobile, "
        "medical_insurance_city, has_basic_medical as 是/否 or 1/0, optional address) or "
        f"NDJSON with the same fields; at most {MAX_ROWS:,} rows.",
        _CSV_MEMBERS,
        _NDJSON_MEMBERS,
    ),
)
async def enrol_members(
    request: Request,
    ctx: Ctx,
    who: Writer,
    key: IdempotencyKey,
    policy_number: PolicyNumber,
    effective: Effective = None,
) -> MemberBatchPublic:
    """批量增员: enrol the members of the body from ``effective``; each is validated (身份证
    checksum, mobile, duplicates, the plan's rules) and charged pro rata for the days left.
    A row that fails is rejected with its line, a code and zh/en text; the rest are enrolled
    in one transaction.  Members already enrolled are counted, not enrolled again."""
    fmt = await _own_and_format(request, ctx, who, policy_number)
    rows = member_rows(_chunks(request.stream()), fmt)
    batch = await run_in_threadpool(
        ctx.app.members.enrol, policy_number, rows, service_request_id(who, key), effective
    )
    return member_batch_public(batch)


@router.post(
    "/policies/{policy_number}/members/removals",
    response_model=MemberBatchPublic,
    status_code=201,
    responses=_STREAMED_ERRORS,
    openapi_extra=_streamed_body(
        "要减少的成员 the members to remove, one a row, each by id_number (身份证号) or "
        f"member_id (from the member list): CSV with a header or NDJSON; at most {MAX_ROWS:,}.",
        _CSV_KEYS,
        _NDJSON_KEYS,
    ),
)
async def remove_members(
    request: Request,
    ctx: Ctx,
    who: Writer,
    key: IdempotencyKey,
    policy_number: PolicyNumber,
    effective: Effective = None,
) -> MemberBatchPublic:
    """批量减员: take the members of the body off the policy from ``effective``, refunding
    each one's annual premium pro rata for the days left.  An unknown, repeated or already
    removed member is a rejected row; the policy keeps at least one member."""
    fmt = await _own_and_format(request, ctx, who, policy_number)
    keys = member_keys(_chunks(request.stream()), fmt)
    batch = await run_in_threadpool(
        ctx.app.members.remove, policy_number, keys, service_request_id(who, key), effective
    )
    return member_batch_public(batch)


@router.get("/policies/{policy_number}/members", response_model=MemberPage)
def list_members(
    ctx: Ctx,
    who: Reader,
    policy_number: PolicyNumber,
    cursor: Annotated[str | None, Query(pattern=r"^[!-~]{1,64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> MemberPage:
    """The policy's members by member ID, a page at a time (pass ``next_cursor`` on)."""
    access.policy(ctx, who, policy_number)
    page = ctx.app.members.members(policy_number, cursor, limit)
    return MemberPage(items=[member_public(m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/policies/{policy_number}/member-batches/{batch_id}", response_model=MemberBatchPublic)
def get_batch(
    ctx: Ctx, who: Reader, policy_number: PolicyNumber, batch_id: BatchId
) -> MemberBatchPublic:
    """A batch's report, as its POST answered."""
    access.policy(ctx, who, policy_number)
    return member_batch_public(ctx.app.members.batch(policy_number, batch_id))


@router.get(
    "/policies/{policy_number}/member-batches/{batch_id}/rejections",
    response_model=RejectionPage,
)
def batch_rejections(
    ctx: Ctx,
    who: Reader,
    policy_number: PolicyNumber,
    batch_id: BatchId,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,9}$")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> RejectionPage:
    """A batch's rejected rows by line, a page at a time (pass ``next_cursor`` on)."""
    access.policy(ctx, who, policy_number)
    after = int(cursor) if cursor else 0
    page = ctx.app.members.rejections(policy_number, batch_id, after, limit)
    return RejectionPage(
        items=[rejection_public(r) for r in page.items], next_cursor=page.next_cursor
    )


async def _own_and_format(
    request: Request, ctx: Ctx, who: Principal, policy_number: str
) -> BodyFormat:
    """Someone else's policy is not found; then the body must be CSV or NDJSON."""
    await run_in_threadpool(access.policy, ctx, who, policy_number)
    fmt = body_format(request.headers.get("content-type"))
    if fmt is None:
        raise HTTPException(415)
    return fmt


def _chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The body's chunks for the worker thread, each awaited on the event loop."""
    while (chunk := anyio.from_thread.run(_next_chunk, stream)) is not None:
        if chunk:
            yield chunk


async def _next_chunk(stream: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(stream)
    except StopAsyncIteration:
        return None


__all__ = ["BODY_LIMITS", "router"]
