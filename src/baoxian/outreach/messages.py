"""The words of proactive notices: each scenario's subject and body in Chinese and English,
with an elderly-friendly variant (关爱版), from ``messages.yaml`` (data, not code)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import yaml
from jinja2 import Environment, StrictUndefined, Template

DEFAULT_HOTLINE = "95500"
"""The service hotline named in the care variant (configure the insurer's own)."""

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class _Text:
    subject: str
    body: Template
    care: Template


@cache
def _catalogue() -> Mapping[tuple[str, str], _Text]:
    raw = yaml.safe_load(files("baoxian.outreach").joinpath("messages.yaml").read_text("utf-8"))
    return {
        (scenario, locale): _Text(
            text["subject"], _ENV.from_string(text["body"]), _ENV.from_string(text["care"])
        )
        for scenario, locales in raw.items()
        for locale, text in locales.items()
    }


def scenarios() -> frozenset[str]:
    """Every scenario that has words."""
    return frozenset(scenario for scenario, _locale in _catalogue())


def render(
    scenario: str,
    locale: str,
    care: bool,
    reason: str,
    policy_number: str | None,
    hotline: str = DEFAULT_HOTLINE,
) -> Rendered:
    """The message of one notice.  An unknown locale falls back to Chinese; an unknown
    scenario is a programming error (``KeyError``).

    >>> render("renewal_due", "zh", False, "保费 100.00 元 12月15日到期", "P1").body
    '保费 100.00 元 12月15日到期。请在到期日前交费，以免影响保障。可在“我的保单”中一键交费。'
    >>> "95500" in render("loan_overdue", "en", True, "Loan L1 is overdue", "P1").body
    True
    """
    text = _catalogue().get((scenario, locale)) or _catalogue()[(scenario, "zh")]
    values = {"reason": reason.rstrip("。. "), "policy": policy_number or "", "hotline": hotline}
    body = (text.care if care else text.body).render(values)
    return Rendered(text.subject, body)


__all__ = ["DEFAULT_HOTLINE", "Rendered", "render", "scenarios"]
