"""Access tokens: partners (OAuth2 client credentials), customers (phone + one-time code)
and staff (ID + password).  Each endpoint is rate-limited per client ID, phone or staff ID
before any secret is checked."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response

from baoxian.api.auth import SIGN_IN_RATE
from baoxian.api.deps import Ctx
from baoxian.api.model import CUSTOMER_SCOPES, ApiDenied, granted_scopes, staff_scopes
from baoxian.api.schemas import CodeSentPublic, TokenPublic
from baoxian.shared.identity import normalise_mobile

router = APIRouter(tags=["tokens 令牌"])

Secret = Annotated[str, Form(min_length=1, max_length=200)]
Visible = Annotated[str, Form(pattern=r"^[!-~]{1,64}$")]
"""An identifier: 1–64 visible ASCII characters."""
MobileForm = Annotated[str, Form(pattern=r"^\+?[0-9][0-9 -]{9,18}$", examples=["13812345678"])]


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post("/oauth/token", response_model=TokenPublic)
def partner_token(
    ctx: Ctx,
    response: Response,
    grant_type: Annotated[Literal["client_credentials"], Form()],
    client_id: Visible,
    client_secret: Secret,
    scope: Annotated[str | None, Form(pattern=r"^[a-z_:, ]{0,500}$")] = None,
) -> TokenPublic:
    """OAuth2 client credentials: a partner's ID and secret for a short-lived token with
    the scopes asked for (all the client's scopes when none are)."""
    ctx.limit(f"token:{client_id}", SIGN_IN_RATE)
    client = ctx.access.authenticate(client_id, client_secret)
    scopes = granted_scopes(client.scopes, scope)
    _no_store(response)
    return ctx.tokens.issue("partner", client.client_id, scopes)


@router.post("/customer/code", response_model=CodeSentPublic, status_code=202)
def customer_code(
    ctx: Ctx,
    request: Request,
    mobile: MobileForm,
) -> CodeSentPublic:
    """短信验证码: send a sign-in code to the phone (the same answer for every valid
    number; limited per number and per client address)."""
    address = request.client.host if request.client else "api"
    ctx.app.identity.request_code(mobile, f"api:{address}")
    return CodeSentPublic()


@router.post("/customer/token", response_model=TokenPublic)
def customer_token(
    ctx: Ctx,
    response: Response,
    mobile: MobileForm,
    code: Annotated[str, Form(pattern=r"^[!-~]{1,12}$")],
) -> TokenPublic:
    """A customer's token for the phone and the code sent to it; it reaches the policies
    held by every party registered with that phone."""
    number = normalise_mobile(mobile)
    index = ctx.app.cipher.mobile_index(number)
    ctx.limit(f"customer:{index}", SIGN_IN_RATE)
    customer = ctx.app.identity.verify_code(number, code)
    _no_store(response)
    return ctx.tokens.issue(
        "customer", index[:32], CUSTOMER_SCOPES, mob=ctx.app.cipher.encrypt(customer.mobile)
    )


@router.post("/staff/token", response_model=TokenPublic)
def staff_token(
    ctx: Ctx,
    response: Response,
    staff_id: Visible,
    password: Secret,
) -> TokenPublic:
    """A member of staff's token; it reads within their roles (service: everything,
    claims staff: claims).  Staff never write through the API."""
    ctx.limit(f"staff:{staff_id.strip()}", SIGN_IN_RATE)
    user = ctx.app.identity.staff_sign_in(staff_id, password)
    scopes = staff_scopes(user.roles)
    if not scopes:
        raise ApiDenied(
            "auth.no_api_role", "该员工角色无 API 权限", "this member of staff has no API role"
        )
    _no_store(response)
    return ctx.tokens.issue("staff", user.user_id, scopes)


__all__ = ["router"]
