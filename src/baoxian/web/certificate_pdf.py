"""The electronic policy certificate as a PDF: the certificate's statements laid out by Typst
(``templates/portal/certificate.typ``) in Noto CJK, so the Chinese text is real text.

The data go to Typst as JSON (``sys.inputs``), never spliced into its source.  Fonts come from
the first of :data:`FONT_DIRS` that exists (Debian's ``fonts-noto-cjk``); without one, Typst
looks for system fonts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typst

from baoxian.policies.certificate import Certificate
from baoxian.web.pages import TEMPLATES, yuan

TEMPLATE = TEMPLATES / "portal" / "certificate.typ"
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),  # Debian / Ubuntu fonts-noto-cjk
    Path("/usr/share/fonts/google-noto-cjk"),  # Fedora
    Path("/usr/share/fonts/noto-cjk"),  # Arch
)


def certificate_pdf(certificate: Certificate) -> bytes:
    """The certificate as PDF bytes."""
    fonts = [folder for folder in FONT_DIRS if folder.is_dir()]
    data = json.dumps(certificate_view(certificate), ensure_ascii=False)
    pdf: bytes = typst.compile(
        TEMPLATE,
        font_paths=fonts,
        ignore_system_fonts=bool(fonts),
        sys_inputs={"data": data},
    )
    return pdf


def certificate_view(c: Certificate) -> dict[str, Any]:
    """The texts the template lays out, bilingual, with money shown as on the site."""
    issued = c.issued_on.isoformat() if c.issued_on else "—"
    return {
        "title": f"电子保单 Electronic policy certificate {c.policy_number}",
        "policy_number": c.policy_number,
        "issued_on": issued,
        "product_zh": c.product_zh,
        "product_en": c.product_en,
        "plan_version": c.plan_version,
        "status_zh": "有效" if c.in_force else "已终止",
        "status_en": "In force" if c.in_force else "Not in force",
        "holder": f"{c.holder.name}（{c.holder.id_masked}）",
        "insured": [f"{p.name}（{p.id_masked}）" for p in c.insured] or ["—"],
        "period_zh": f"{c.cover_from} 零时起至 {c.cover_to} 二十四时止",
        "period_en": f"From {c.cover_from} 00:00 to {c.cover_to} 24:00",
        "lines": [
            {
                "zh": line.coverage_zh,
                "en": line.coverage_en,
                "insured": line.insured,
                "sum_insured": yuan(line.sum_insured),
            }
            for line in c.lines
        ],
        "premium": yuan(c.premium_charged),
        "code": c.verification_code,
        "verify_zh": "可凭保单号与验真码致电 95500 核验本保单的真实性；保单变更后验真码随之更新。",
        "verify_en": (
            "Call 95500 with the policy number and this code to check that the certificate is "
            "genuine; the code changes whenever the policy is changed."
        ),
        "footer_zh": "本电子保单与纸质保单具有同等效力。保险责任以保险条款为准。",
        "footer_en": (
            "This electronic certificate has the same effect as a paper policy. "
            "Cover is as set out in the policy terms."
        ),
    }


__all__ = ["FONT_DIRS", "certificate_pdf", "certificate_view"]
