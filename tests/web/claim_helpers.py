"""Helpers of the claim web tests: a real tiny PNG, the claim form filled in and sent, staff
signed in to the console."""

from __future__ import annotations

import re
import struct
import zlib

import httpx

from tests.web.conftest import CSRF, Browser

REQUEST_ID = re.compile(r'name="request_id" value="([0-9a-f]{32})"')
INSURED = re.compile(r'name="insured" value="([0-9a-f]{32})"')
CLAIM_PAGE = re.compile(r"/me/claims/([0-9a-f]{32})$")


def tiny_png(rgb: bytes = b"\xff\xff\xff") -> bytes:
    """A valid 1×1 PNG of one colour (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + rgb)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = tiny_png()


def claim_form(browser: Browser, number: str) -> dict[str, str]:
    """Open the claim form of a policy: its hidden fields (request ID, insured, CSRF)."""
    page = browser.client.get(f"/me/policies/{number}/claims/new")
    assert page.status_code == 200, page.text
    found = [pattern.search(page.text) for pattern in (REQUEST_ID, INSURED, CSRF)]
    request_id, insured, token = (m.group(1) if m else "" for m in found)
    assert request_id and insured and token, "the claim form lacks a hidden field"
    return {"request_id": request_id, "insured": insured, "csrf": token}


def send_claim(
    browser: Browser,
    number: str,
    *,
    in_list: str = "50,000",
    paid_by_basic: str = "30,000",
    out_of_list: str = "",
    invoice_no: str = "INV-2026-0001",
    invoice: tuple[str, bytes, str] | None = ("invoice.png", PNG, "image/png"),
    hidden: dict[str, str] | None = None,
) -> httpx.Response:
    """File a 惠民保 claim through the form: a stay in June 2026, appendicitis."""
    data = {
        **(hidden or claim_form(browser, number)),
        "admitted": "2026-06-01",
        "discharged": "2026-06-06",
        "hospital": "北京协和医院",
        "diagnosis": "K35.8",
        "invoice_no": invoice_no,
        "in_list": in_list,
        "paid_by_basic": paid_by_basic,
        "out_of_list": out_of_list,
    }
    files = {"invoice": invoice} if invoice else {"invoice": ("", b"", "application/octet-stream")}
    sent: httpx.Response = browser.client.post(
        f"/me/policies/{number}/claims", data=data, files=files
    )
    return sent


def claim_id_of(response: httpx.Response) -> str:
    found = CLAIM_PAGE.search(str(response.url.path))
    assert found, f"not on a claim page: {response.url}"
    return found.group(1)


def staff_sign_in(browser: Browser, user_id: str, password: str) -> None:
    token = browser.csrf("/console")
    page = browser.client.post(
        "/console/sign-in", data={"user_id": user_id, "password": password, "csrf": token}
    )
    assert page.status_code == 200 and "云柜面" in page.text, page.text


def post_form(browser: Browser, path: str, page_path: str, **fields: str) -> httpx.Response:
    """Post a console form with the CSRF token of the page it is on."""
    sent: httpx.Response = browser.client.post(
        path, data={"csrf": browser.csrf(page_path), **fields}
    )
    return sent
