"""The staff console (云柜面): sign in with a staff ID and password; work queues."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from baoxian.identity.model import SignInFailed
from baoxian.web.pages import Page, Web
from baoxian.web.security import SESSION_COOKIE, Session

router = APIRouter(prefix="/console")


def page_of(request: Request) -> Page:
    web: Web = request.app.state.web
    return web.page(request)


@router.get("")
def console_home(request: Request) -> Response:
    page = page_of(request)
    staff = page.staff()
    if staff is None:
        return page.render("console/sign_in.html")
    queue = page.web.app.claims.queue(limit=50) if staff.has("claims_handler") else []
    return page.render("console/home.html", staff=staff, queue=queue)


@router.post("/sign-in")
def staff_sign_in(
    request: Request, user_id: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    page = page_of(request)
    try:
        staff = page.web.app.identity.staff_sign_in(user_id, password)
    except SignInFailed as error:
        return page.render("console/sign_in.html", status_code=400, error=error, user_id=user_id)
    response = RedirectResponse("/console", status_code=303)
    token = page.web.keys.issue(Session("staff", staff.user_id, page.sid), page.web.clock())
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True, samesite="lax")
    return response


@router.post("/sign-out")
def staff_sign_out(request: Request) -> Response:
    response = RedirectResponse("/console", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=True, samesite="lax")
    return response


__all__ = ["router"]
