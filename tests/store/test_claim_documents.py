"""Claim documents on SQLite and PostgreSQL: checksums, one blob per content, idempotent
re-attach, refused uploads write nothing, and tampered content is caught on read."""

from __future__ import annotations

import doctest
import hashlib
import itertools
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims import documents as documents_module
from baoxian.claims.documents import (
    MAX_DOCUMENT_BYTES,
    Document,
    DocumentCorrupted,
    DocumentService,
    check_upload,
)
from baoxian.claims.model import BillItem, HealthClaim
from baoxian.claims.repository import SqlClaimsUnitOfWork, SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.claims.tables import blobs, documents
from baoxian.policies.ports import Event
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.services import InsuredInput, PolicyService, QuoteInput
from baoxian.shared.clock import Clock
from baoxian.shared.errors import NotFound, ValidationFailed
from baoxian.shared.money import Money
from tests.store.conftest import NOW, resident_id

CATALOG = Catalog(CatalogRepository(Path(__file__).resolve().parents[2] / "catalog"))

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(200))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 50
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x02" * 40
JPEG_SHA = hashlib.sha256(JPEG).hexdigest()


@pytest.fixture
def service(engine: Engine, uow: SqlUnitOfWorkFactory, clock: Clock) -> DocumentService:
    """Two reported claims, C1 and C2, on one 惠民保 policy; documents numbered DOC-1, …"""
    ids = itertools.count(1)
    policies = PolicyService(
        uow=uow, catalog=CATALOG, clock=clock, new_id=lambda: f"{next(ids):032x}"
    )
    claim_uow = SqlClaimsUnitOfWorkFactory(engine, clock)
    claims = ClaimService(claim_uow, policies, CATALOG, clock, lambda: f"{next(ids):032x}")
    person = policies.register_person(
        "王建国", resident_id("11010519810415031"), "13812345678", medical_insurance_city="110000"
    )
    insured = (InsuredInput("person", person.party_id),)
    quote = policies.create_quote(QuoteInput("BJ-HMB", person.party_id, date(2026, 1, 1), insured))
    number = policies.issue_policy(quote.quote_id).policy_number
    for claim_id in ("C1", "C2"):
        item = BillItem("HOSP", "住院", "in_list", Money.of("1000"))
        claims.report(
            HealthClaim(claim_id, number, person.party_id, date(2026, 6, 1), "K35.8", (item,))
        )
    doc_ids = itertools.count(1)
    return DocumentService(claim_uow, clock, lambda: f"DOC-{next(doc_ids)}")


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def added_events(engine: Engine, claim_id: str) -> list[Event]:
    with SqlClaimsUnitOfWork(engine) as work:
        found = work.events.for_aggregate(claim_id)
    return [e for e in found if e.event_type == "claim.document_added"]


def test_attach_keeps_the_checksum_and_records_an_event(
    service: DocumentService, engine: Engine
) -> None:
    document = service.attach(
        "C1", "photo", "../../手机相册/伤口 照片.JPG", "Image/JPEG", JPEG, JPEG_SHA.upper()
    )
    assert document == Document(
        "DOC-1", "C1", "photo", "伤口 照片.JPG", "image/jpeg", len(JPEG), JPEG_SHA, NOW
    )
    assert document.kind_zh == "照片"
    assert service.read("DOC-1") == (document, JPEG)
    assert service.list("C1") == [document]
    assert service.list("C2") == []
    with engine.connect() as connection:
        stored = connection.execute(select(blobs.c.size_bytes, blobs.c.content)).one()
    assert (stored.size_bytes, bytes(stored.content)) == (len(JPEG), JPEG)
    assert len(added_events(engine, "C1")) == 1


def test_the_event_carries_the_document(service: DocumentService, engine: Engine) -> None:
    service.attach("C1", "invoice", "发票.pdf", "application/pdf", PDF)
    [event] = added_events(engine, "C1")
    assert (event.aggregate_type, event.occurred_at) == ("claim", NOW)
    assert event.payload == {
        "document_id": "DOC-1",
        "kind": "invoice",
        "filename": "发票.pdf",
        "media_type": "application/pdf",
        "size_bytes": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
    }


def test_reattaching_the_same_content_changes_nothing(
    service: DocumentService, engine: Engine
) -> None:
    first = service.attach("C1", "photo", "a.jpg", "image/jpeg", JPEG)
    again = service.attach("C1", "other", "renamed.jpeg", "image/jpeg", JPEG, JPEG_SHA)
    assert again == first
    assert (count(engine, "claim_documents"), count(engine, "claim_blobs")) == (1, 1)
    assert len(added_events(engine, "C1")) == 1


def test_the_same_content_on_two_claims_is_stored_once(
    service: DocumentService, engine: Engine
) -> None:
    one = service.attach("C1", "id_card", "id.png", "image/png", PNG)
    two = service.attach("C2", "id_card", "id.png", "image/png", PNG)
    assert one.document_id != two.document_id
    assert one.sha256 == two.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (count(engine, "claim_documents"), count(engine, "claim_blobs")) == (2, 1)
    assert [d.document_id for d in service.list("C2")] == ["DOC-2"]
    assert service.read("DOC-2") == (two, PNG)


def test_a_claim_lists_its_documents_in_upload_order(service: DocumentService) -> None:
    service.attach("C1", "photo", "scene.heic", "image/heic", HEIC)
    service.attach("C1", "discharge_summary", "出院小结.pdf", "application/pdf", PDF)
    listed = service.list("C1")
    assert [(d.document_id, d.kind, d.media_type) for d in listed] == [
        ("DOC-1", "photo", "image/heic"),
        ("DOC-2", "discharge_summary", "application/pdf"),
    ]


def test_a_wrong_checksum_is_refused_and_nothing_is_written(
    service: DocumentService, engine: Engine
) -> None:
    wrong = hashlib.sha256(JPEG + b"!").hexdigest()
    with pytest.raises(ValidationFailed) as error:
        service.attach("C1", "photo", "a.jpg", "image/jpeg", JPEG, wrong)
    assert error.value.code == "claim.document_checksum_mismatch"
    assert error.value.details == {"expected": wrong, "actual": JPEG_SHA}
    assert "校验值不符" in error.value.zh and "checksum" in error.value.en
    with pytest.raises(ValidationFailed) as error:
        service.attach("C1", "photo", "a.jpg", "image/jpeg", JPEG, "not-hex")
    assert error.value.code == "claim.document_checksum_invalid"
    assert (count(engine, "claim_documents"), count(engine, "claim_blobs")) == (0, 0)


def test_a_pdf_named_jpg_is_refused(service: DocumentService, engine: Engine) -> None:
    with pytest.raises(ValidationFailed) as error:
        service.attach("C1", "photo", "photo.jpg", "image/jpeg", PDF)
    assert error.value.code == "claim.document_content_mismatch"
    assert "application/pdf" in error.value.en
    assert count(engine, "claim_blobs") == 0


def test_documents_of_an_unknown_claim_or_id_are_not_found(service: DocumentService) -> None:
    with pytest.raises(NotFound) as error:
        service.attach("NOPE", "photo", "a.jpg", "image/jpeg", JPEG)
    assert error.value.code == "claim.not_found"
    with pytest.raises(NotFound) as error:
        service.list("NOPE")
    assert error.value.code == "claim.not_found"
    with pytest.raises(NotFound) as error:
        service.read("DOC-404")
    assert error.value.code == "claim.document_not_found"


def test_tampered_content_is_caught_on_read(service: DocumentService, engine: Engine) -> None:
    document = service.attach("C1", "photo", "a.jpg", "image/jpeg", JPEG)
    forged = JPEG[:-1] + b"\x00"
    with engine.begin() as connection:
        connection.execute(
            blobs.update().where(blobs.c.sha256 == document.sha256).values(content=forged)
        )
    with pytest.raises(DocumentCorrupted) as error:
        service.read(document.document_id)
    assert error.value.code == "claim.document_corrupted"
    assert error.value.details == {
        "expected": JPEG_SHA,
        "actual": hashlib.sha256(forged).hexdigest(),
    }
    with engine.connect() as connection:
        kept = connection.execute(select(func.count()).select_from(documents)).scalar_one()
    assert kept == 1


# --------------------------------------------------------------------------- pure checks


@pytest.mark.parametrize(
    ("kind", "filename", "media_type", "content", "code"),
    [
        ("selfie", "a.jpg", "image/jpeg", JPEG, "claim.document_kind_unknown"),
        ("photo", "a.gif", "image/gif", b"GIF89a", "claim.document_media_type_not_allowed"),
        ("photo", "a.jpg", "image/jpeg", b"", "claim.document_empty"),
        ("photo", "a.jpg", "image/jpeg", JPEG[:3] + bytes(MAX_DOCUMENT_BYTES), "too_large"),
        ("photo", "../..", "image/jpeg", JPEG, "claim.document_filename_invalid"),
        ("photo", "a.png", "image/jpeg", JPEG, "claim.document_content_mismatch"),
        ("invoice", "bill.jpg", "application/pdf", PDF, "claim.document_content_mismatch"),
        ("photo", "a.png", "image/png", JPEG, "claim.document_content_mismatch"),
        ("photo", "a.jpg", "image/jpeg", b"\x00" * 20, "claim.document_content_mismatch"),
    ],
)
def test_bad_uploads_are_refused_with_a_code(
    kind: str, filename: str, media_type: str, content: bytes, code: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        check_upload(kind, filename, media_type, content, None)
    assert error.value.code.endswith(code)
    assert error.value.zh and error.value.en


def test_a_long_filename_keeps_its_extension() -> None:
    name, media_type, digest = check_upload("photo", "长" * 300 + ".jpeg", "image/jpeg", JPEG, None)
    assert (len(name), name[-5:], media_type, digest) == (200, ".jpeg", "image/jpeg", JPEG_SHA)


def test_docstring_examples() -> None:
    result = doctest.testmod(documents_module)
    assert (result.failed, result.attempted > 0) == (0, True)
