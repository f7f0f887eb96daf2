"""Webhooks (回调): a partner registers an HTTPS endpoint for the policy and claim events of
the objects it holds, gets the signing secret once, reads the attempt log and replays
events it missed.  Deliveries are sent by ``baoxian api webhooks dispatch``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from baoxian.api.deps import Ctx, IdempotencyKey, Principal, scoped
from baoxian.api.schemas import (
    ReplayPublic,
    WebhookAttemptPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    attempt_public,
    webhook_public,
)
from baoxian.shared.errors import ValidationFailed

router = APIRouter(tags=["webhooks 回调"])

Manager = Annotated[Principal, scoped("webhooks:manage")]
WebhookId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Since = Annotated[
    str,
    Query(
        min_length=1,
        max_length=40,
        pattern=r"^(\d{1,18}|\d{4}-\d{2}-\d{2}T[0-9:.]{5,15}(Z|[+-]\d{2}:\d{2}))$",
        description="an event ID (the events after it) or a time with its offset (the "
        "events that occurred at or after it)",
        examples=["1024", "2026-06-15T08:00:00+08:00"],
    ),
]


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
def register(ctx: Ctx, who: Manager, key: IdempotencyKey, body: WebhookCreate) -> WebhookCreated:
    """Register an endpoint.  The answer holds the signing secret: it is shown only here
    (a retry with the same Idempotency-Key gets this same answer)."""
    webhook, secret = ctx.webhooks.register(who.subject, who.scopes, body.url, body.event_types)
    return WebhookCreated(**webhook_public(webhook).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[WebhookPublic])
def list_webhooks(ctx: Ctx, who: Manager) -> list[WebhookPublic]:
    return [webhook_public(w) for w in ctx.webhooks.webhooks(who.subject)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookPublic)
def get_webhook(ctx: Ctx, who: Manager, webhook_id: WebhookId) -> WebhookPublic:
    return webhook_public(ctx.webhooks.webhook(who.subject, webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(ctx: Ctx, who: Manager, webhook_id: WebhookId) -> Response:
    """Stop deliveries to the endpoint (its attempt log is kept)."""
    ctx.webhooks.delete(who.subject, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/attempts", response_model=list[WebhookAttemptPublic])
def attempts(
    ctx: Ctx,
    who: Manager,
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[WebhookAttemptPublic]:
    """The delivery log, newest first: each attempt's status code or error and when the
    next one is due."""
    return [attempt_public(a) for a in ctx.webhooks.attempts(who.subject, webhook_id, limit)]


@router.post("/webhooks/{webhook_id}/replay", response_model=ReplayPublic, status_code=202)
def replay(
    ctx: Ctx, who: Manager, key: IdempotencyKey, webhook_id: WebhookId, since: Since
) -> ReplayPublic:
    """Send again the events after ``since`` that this webhook gets (delivered, dead or
    missed), each from a first attempt.  At most 50,000 events of the log are looked at per
    call: when ``complete`` is false, replay again since ``through_event_id``."""
    done = ctx.webhooks.replay(who.subject, webhook_id, _since(since))
    return ReplayPublic(
        queued=done.queued, through_event_id=done.through_event_id, complete=done.complete
    )


def _since(text: str) -> int | datetime:
    if text.isdigit():
        return int(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "webhook.invalid_since",
            "since 须为事件编号或带时区的时间",
            "since is an event ID or a time with its offset",
        ) from None


__all__ = ["router"]
