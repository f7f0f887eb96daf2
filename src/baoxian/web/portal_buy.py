"""Buying a policy on the portal (网上投保): plan → insured person → questions → premium → pay,
then the policy is in force and its electronic certificate (电子保单) can be downloaded.

One task per screen, so the flow reads well in 关爱版.  Plan options travel between the steps
as hidden fields; the person is registered with the signed-in phone at step 2.  Only a party
of the signed-in phone is ever quoted, paid for or shown: anything else is 404.  Routes parse,
call a service and render — the rules live in ``policies.application`` and ``billing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import InvalidOperation

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from baoxian.catalog.model import CompiledPlan
from baoxian.identity.services import Customer
from baoxian.policies.application import declare, online_start, questions_for, sold_online
from baoxian.policies.model import Quote, QuoteStatus
from baoxian.policies.services import InsuredInput, QuoteInput
from baoxian.shared.clock import local_date
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.money import Money
from baoxian.web.certificate_pdf import certificate_pdf
from baoxian.web.pages import Page
from baoxian.web.portal import own_policy, page_of, sign_in_first

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Options:
    """The plan options chosen at step 1: sums insured by coverage, and riders."""

    selections: dict[str, Money]
    riders: frozenset[str]

    def fields(self) -> list[tuple[str, str]]:
        """The hidden fields that carry the options to the next step."""
        chosen = [("choice", f"{code}:{money.amount}") for code, money in self.selections.items()]
        return chosen + [("rider", rider) for rider in sorted(self.riders)]


def parse_options(choices: Sequence[str], riders: Sequence[str]) -> Options:
    """``choice=coverage:amount`` and ``rider=code`` fields; the quote checks the values."""
    selections: dict[str, Money] = {}
    for item in choices:
        code, colon, amount = item.partition(":")
        try:
            money = Money.of(amount.strip())
            if not colon or not code or not money.amount.is_finite():
                raise ValueError(item)
            selections[code] = money
        except (InvalidOperation, ValueError):
            raise ValidationFailed(
                "buy.invalid_option",
                "所选的保障方案无效，请重新选择",
                "The plan options are not valid; please choose again",
            ) from None
    return Options(selections, frozenset(r for r in riders if r))


def _strings(values: Sequence[object]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def _options_in(form: FormData) -> Options:
    return parse_options(_strings(form.getlist("choice")), _strings(form.getlist("rider")))


def _start(page: Page) -> date:
    """The day cover bought now would start."""
    return online_start(local_date(page.web.clock()))


@dataclass(frozen=True, slots=True)
class CoverOption:
    """A coverage as step 1 shows it: a fixed sum insured, or choices (the first is the
    default); ``rider`` names the rider that adds it."""

    code: str
    zh: str
    en: str
    fixed: Money | None
    choices: tuple[Money, ...]
    rider: str | None


def cover_options(compiled: CompiledPlan) -> list[CoverOption]:
    """The coverages a person can see and choose at step 1 (optional ones are not sold
    online)."""
    return [
        CoverOption(
            c.code,
            c.name.zh,
            c.name.en,
            None if c.sum_insured.fixed is None else Money(c.sum_insured.fixed),
            tuple(Money(amount) for amount in c.sum_insured.choices or ()),
            c.rider,
        )
        for c in compiled.plan.coverages
        if not c.optional
    ]


def own_quote(page: Page, customer: Customer, quote_id: str) -> Quote:
    """A quote of one of the customer's parties, or 404 (also for one that does not exist)."""
    try:
        quote = page.web.app.policies.quote(quote_id)
    except NotFound:
        raise HTTPException(404) from None
    if quote.holder_id not in customer.party_ids:
        raise HTTPException(404)
    return quote


# --------------------------------------------------------------------------- step 1: plan


@router.get("/buy")
def products(request: Request) -> Response:
    page = page_of(request)
    offers = [(product, sold_online(product)) for product in page.web.app.catalog.products()]
    return page.render("portal/buy_products.html", offers=offers, customer=page.customer())


@router.get("/buy/{code}")
def plan(request: Request, code: str) -> Response:
    page = page_of(request)
    start = _start(page)
    compiled = page.web.app.catalog.plan_on(code, start)
    if not sold_online(compiled.product):
        return page.render("portal/buy_contact.html", product=compiled.product)
    return page.render(
        "portal/buy_plan.html",
        plan=compiled,
        start=start,
        cover=cover_options(compiled),
        customer=page.customer(),
        step=1,
    )


# --------------------------------------------------------------------------- step 2: insured


@router.get("/buy/{code}/insured")
def insured_form(request: Request, code: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    query = request.query_params
    options = parse_options(query.getlist("choice"), query.getlist("rider"))
    compiled = page.web.app.catalog.plan_on(code, _start(page))
    return page.render(
        "portal/buy_insured.html", customer=customer, plan=compiled, options=options, step=2
    )


@router.post("/buy/{code}/insured")
async def insured_submitted(request: Request, code: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_register_insured, request, code, form)


def _register_insured(request: Request, code: str, form: FormData) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    app = page.web.app
    compiled = app.catalog.plan_on(code, _start(page))
    options = _options_in(form)
    name, id_number = str(form.get("name") or ""), str(form.get("id_number") or "")
    try:
        person = app.policies.register_applicant(name, id_number, customer.mobile)
    except ValidationFailed as error:
        return page.render(
            "portal/buy_insured.html",
            status_code=400,
            customer=customer,
            plan=compiled,
            options=options,
            error=error,
            name=name,
            step=2,
        )
    return page.render(
        "portal/buy_questions.html",
        customer=customer,
        plan=compiled,
        options=options,
        person=person,
        questions=questions_for(compiled),
        answers={},
        step=3,
    )


# --------------------------------------------------------------------------- step 3: questions


@router.post("/buy/{code}/quote")
async def answers_submitted(request: Request, code: str) -> Response:
    form = await request.form()
    return await run_in_threadpool(_quote, request, code, form)


def _quote(request: Request, code: str, form: FormData) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    app = page.web.app
    person = next((p for p in customer.parties if p.party_id == form.get("party_id")), None)
    if person is None:
        raise HTTPException(404)
    start = _start(page)
    compiled = app.catalog.plan_on(code, start)
    options = _options_in(form)
    questions = questions_for(compiled)
    answers = {q.code: _strings(form.getlist(q.code)) for q in questions}
    try:
        declared = declare(questions, answers)
    except ValidationFailed as error:
        return page.render(
            "portal/buy_questions.html",
            status_code=400,
            customer=customer,
            plan=compiled,
            options=options,
            person=person,
            questions=questions,
            answers=answers,
            error=error,
            step=3,
        )
    insured = InsuredInput(
        "person",
        person.party_id,
        facts=declared.facts,
        declared_conditions=declared.conditions,
    )
    quote = app.policies.create_quote(
        QuoteInput(
            compiled.product.code,
            person.party_id,
            start,
            (insured,),
            selections=options.selections,
            riders=options.riders,
        )
    )
    return RedirectResponse(f"/me/quotes/{quote.quote_id}", status_code=303)


# --------------------------------------------------------------------------- step 4: premium


@router.get("/me/quotes/{quote_id}")
def premium(request: Request, quote_id: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    quote = own_quote(page, customer, quote_id)
    if quote.status is QuoteStatus.ISSUED:
        return RedirectResponse(f"/me/quotes/{quote_id}/done", status_code=303)
    return _quote_page(page, customer, quote, "portal/buy_quote.html", step=4)


def _quote_page(
    page: Page,
    customer: Customer,
    quote: Quote,
    template: str,
    status_code: int = 200,
    **more: object,
) -> Response:
    q = quote.quotation
    compiled = page.web.app.catalog.plan(q.product_code, q.plan_version)
    holder = next(p for p in customer.parties if p.party_id == quote.holder_id)
    return page.render(
        template,
        status_code=status_code,
        customer=customer,
        quote=quote,
        plan=compiled,
        holder=holder,
        **more,
    )


# --------------------------------------------------------------------------- step 5: pay


@router.get("/me/quotes/{quote_id}/pay")
def payment(request: Request, quote_id: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    quote = own_quote(page, customer, quote_id)
    if quote.status is QuoteStatus.ISSUED:
        return RedirectResponse(f"/me/quotes/{quote_id}/done", status_code=303)
    if quote.status is not QuoteStatus.ACCEPTED:
        return RedirectResponse(f"/me/quotes/{quote_id}", status_code=303)
    order = page.web.app.billing.order_for(quote_id)
    return _quote_page(page, customer, quote, "portal/buy_pay.html", order=order, step=5)


@router.post("/me/quotes/{quote_id}/pay")
def pay(request: Request, quote_id: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    quote = own_quote(page, customer, quote_id)
    checkout = page.web.app.billing.pay(quote.quote_id)
    if checkout.policy is not None:
        return RedirectResponse(f"/me/quotes/{quote_id}/done", status_code=303)
    return _quote_page(
        page,
        customer,
        quote,
        "portal/buy_pay.html",
        status_code=402,
        order=checkout.order,
        error=checkout.declined,
        step=5,
    )


@router.get("/me/quotes/{quote_id}/done")
def done(request: Request, quote_id: str) -> Response:
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        return sign_in_first(request)
    quote = own_quote(page, customer, quote_id)
    if quote.policy_number is None:
        return RedirectResponse(f"/me/quotes/{quote_id}", status_code=303)
    policy = own_policy(page, customer, quote.policy_number)
    return _quote_page(page, customer, quote, "portal/buy_done.html", policy=policy)


# --------------------------------------------------------------------------- certificate


@router.get("/me/policies/{policy_number}/certificate.pdf")
def certificate(request: Request, policy_number: str) -> Response:
    """电子保单: only the policy's own customer may download it (404 for anyone else)."""
    page = page_of(request)
    customer = page.customer()
    if customer is None:
        raise HTTPException(404)
    policy = own_policy(page, customer, policy_number)
    pdf = certificate_pdf(page.web.app.certificates.certificate(policy.policy_number))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{policy.policy_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


__all__ = ["Options", "parse_options", "router"]
