"""Errors as ``application/problem+json`` (RFC 9457), mapped in this one place.

Every answer that is not a success has ``type``, ``title``, ``status``, ``detail`` and the
project's ``code``, ``zh`` and ``en``; an invalid request adds ``errors``, one per field
(``{"field": "holder.id_number", "zh": …, "en": …}``).  A domain error maps by its class
(not found 404, a state that does not allow the action 409, invalid input 422, …); anything
unexpected is a 500 without a traceback — the traceback goes to the log, with 身份证号 and
phone numbers masked.

>>> redact("张三 11010519491231002X 13812345678")
'张三 110***********002X 138****5678'
>>> field_name(("body", "holder", "id_number")), field_name(("query", "limit"))
('holder.id_number', 'limit')
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from baoxian.api.model import ApiDenied, TooManyRequests, Unauthenticated
from baoxian.claims.desk import NotPermitted
from baoxian.identity.model import RateLimited, SignInFailed
from baoxian.shared.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidTransition,
    LimitExceeded,
    NotFound,
    ValidationFailed,
)
from baoxian.shared.identity import mask_id, mask_phone

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("baoxian.api")

_STATUS_BY_CLASS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Unauthenticated, 401),
    (SignInFailed, 401),
    (ApiDenied, 403),
    (NotPermitted, 403),
    (TooManyRequests, 429),
    (RateLimited, 429),
    (ConcurrencyConflict, 409),
    (InvalidTransition, 409),
    (LimitExceeded, 413),
    (ValidationFailed, 422),
)
_SERVER_SIDE = frozenset({"store.data_key_mismatch", "claim.document_corrupted"})

_HTTP_TEXT: Mapping[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求无效", "the request is not valid"),
    401: ("auth.required", "需要有效的访问令牌", "a valid access token is required"),
    403: ("auth.forbidden", "无权执行此操作", "not allowed"),
    404: ("not_found", "找不到该资源", "no such resource"),
    405: ("method_not_allowed", "不支持此方法", "this method is not allowed here"),
    406: ("not_acceptable", "无法提供所需格式", "cannot answer in the format asked for"),
    413: ("request_too_large", "请求内容过大", "the request is too large"),
    415: ("unsupported_media_type", "不支持的内容类型", "unsupported content type"),
}

_ZH_BY_TYPE: Mapping[str, str] = {
    "missing": "必填",
    "extra_forbidden": "不允许的字段",
    "string_too_short": "内容太短",
    "string_too_long": "内容太长",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "greater_than": "数值太小",
    "greater_than_equal": "数值太小",
    "less_than": "数值太大",
    "less_than_equal": "数值太大",
    "too_short": "条目太少",
    "too_long": "条目太多",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "union_tag_invalid": "类型（kind）无效",
    "union_tag_not_found": "缺少类型（kind）",
    "json_invalid": "JSON 格式错误",
    "json_type": "JSON 格式错误",
    "money_format": '金额应为两位小数的字符串，如 "195.00"',
    "money_negative": "金额不能为负",
    "text_control": "不能含控制字符",
    "date_out_of_range": "日期须在 2000 至 2100 年之间",
    "nothing_to_change": "请填写新的手机号或地址",
}


class FieldProblem(BaseModel):
    field: str = Field(examples=["holder.id_number"])
    zh: str
    en: str


class Problem(BaseModel):
    """An error answer (``application/problem+json``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:baoxian:problem:policy.not_found",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "no policy BJHMB202600000001",
                    "code": "policy.not_found",
                    "zh": "没有保单 BJHMB202600000001",
                    "en": "no policy BJHMB202600000001",
                }
            ]
        }
    )

    type: str
    title: str
    status: int
    detail: str
    code: str
    zh: str
    en: str
    errors: list[FieldProblem] | None = None


def problem_response(
    status: int,
    code: str,
    zh: str,
    en: str,
    errors: Sequence[FieldProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=f"urn:baoxian:problem:{code}",
        title=_title(status),
        status=status,
        detail=en,
        code=code,
        zh=zh,
        en=en,
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def domain_problem(error: DomainError) -> JSONResponse:
    """A domain error as a problem: the status follows from its class; an error that
    names a ``field`` (a row of a streamed body) adds it to ``errors``."""
    if error.code in _SERVER_SIDE:
        log.error("server-side data problem %s: %s", error.code, redact(error.en))
        return _internal()
    status = next((s for cls, s in _STATUS_BY_CLASS if isinstance(error, cls)), 422)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    elif status == 429:
        headers["Retry-After"] = "3600"
    field = error.details.get("field")
    errors = (
        [FieldProblem(field=field, zh=error.zh, en=error.en)] if isinstance(field, str) else None
    )
    return problem_response(status, error.code, error.zh, error.en, errors, headers)


def validation_problem(errors: Sequence[Any]) -> JSONResponse:
    """422 naming every field that is wrong (input values are never echoed back)."""
    fields = [
        FieldProblem(field=field_name(e.get("loc", ())), zh=_zh(e), en=str(e.get("msg", "")))
        for e in errors
    ]
    names = ", ".join(dict.fromkeys(f.field for f in fields))
    return problem_response(
        422,
        "request.invalid",
        f"请求内容有误，请检查：{names}",
        f"the request is not valid; check: {names}",
        errors=fields,
    )


def field_name(loc: Sequence[Any]) -> str:
    """The field a pydantic error location names, without where it came from."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(api: FastAPI) -> None:
    """Map every error the API can meet to a problem."""

    @api.exception_handler(DomainError)
    async def domain(request: Request, error: DomainError) -> Response:
        return domain_problem(error)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return validation_problem(error.errors())

    @api.exception_handler(PydanticValidationError)
    async def invalid_model(request: Request, error: PydanticValidationError) -> Response:
        return validation_problem(error.errors())

    @api.exception_handler(StarletteHTTPException)
    async def http(request: Request, error: StarletteHTTPException) -> Response:
        return http_problem(error.status_code, error.headers)

    @api.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> Response:
        log.error(
            "unhandled %s on %s %s: %s",
            type(error).__name__,
            request.method,
            request.url.path,
            redact(str(error))[:500],
            exc_info=(type(error), error, error.__traceback__),
        )
        return _internal()


def http_problem(status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    default = (f"http_{status}", "请求无法完成", _title(status).lower())
    code, zh, en = _HTTP_TEXT.get(status, default)
    return problem_response(status, code, zh, en, headers=headers)


def _internal() -> JSONResponse:
    return problem_response(
        500,
        "internal_error",
        "系统繁忙，请稍后再试",
        "the service could not complete the request; try again later",
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _zh(error: Mapping[str, Any]) -> str:
    return _ZH_BY_TYPE.get(str(error.get("type", "")), "输入无效")


# --------------------------------------------------------------------------- logs

_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def redact(text: str) -> str:
    """Mask 身份证号 and mainland mobile numbers anywhere in a text (logs)."""
    text = _RESIDENT_ID.sub(lambda m: mask_id(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)


class RedactingFilter(logging.Filter):
    """A log filter that masks personal data in every record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text.rstrip("\n"))
        return True


__all__ = [
    "PROBLEM_JSON",
    "FieldProblem",
    "Problem",
    "RedactingFilter",
    "domain_problem",
    "field_name",
    "http_problem",
    "install",
    "problem_response",
    "redact",
    "validation_problem",
]
