"""Claim documents (理赔资料): photos and papers attached to a claim, kept by checksum.

Each distinct content is stored once in ``claim_blobs`` under its SHA-256; a claim's
``claim_documents`` rows point at it.  Uploads are checked before anything is written: the
kind (资料类型) and media type come from fixed lists, the size is bounded, the filename keeps
no path, and the first bytes must say what the media type and extension claim — a PDF named
``.jpg`` is refused.  Attaching the same content to the same claim again returns the
document already there.  Reading re-computes the checksum, so a blob changed behind the
service's back is noticed.

>>> sanitise_filename("../../证件/身份证 正面.JPG")
'身份证 正面.JPG'
>>> sniff_media_type(b"%PDF-1.7 ...")
'application/pdf'
>>> media_type_for("IMG_0001.HEIC")
'image/heic'
"""

from __future__ import annotations

import builtins
import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from baoxian.claims.repository import SqlClaimsUnitOfWork
from baoxian.claims.tables import blobs, documents
from baoxian.policies.ports import Event
from baoxian.shared.clock import Clock
from baoxian.shared.errors import DomainError, NotFound, ValidationFailed

DOCUMENT_KINDS: Mapping[str, str] = {
    "photo": "照片",
    "invoice": "发票",
    "discharge_summary": "出院小结",
    "prescription": "处方",
    "id_card": "身份证件",
    "bank_card": "银行卡",
    "police_report": "事故证明",
    "loss_assessment": "定损报告",
    "other": "其他",
}
"""The kinds of document a claim accepts, with their Chinese names."""

EXTENSIONS: Mapping[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/heic": (".heic", ".heif"),
    "application/pdf": (".pdf",),
}
"""The media types allowed, each with the filename extensions it may carry."""

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""20 MiB: a phone photo or a scanned multi-page PDF fits; a video does not."""

MAX_FILENAME_CHARS = 200  # the width of claim_documents.filename

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Document:
    """A document attached to a claim; its content lives in the blob named by ``sha256``."""

    document_id: str
    claim_id: str
    kind: str
    filename: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime

    @property
    def kind_zh(self) -> str:
        return DOCUMENT_KINDS.get(self.kind, self.kind)


class DocumentCorrupted(DomainError):
    """Stored content no longer matches the checksum it was stored under."""


# --------------------------------------------------------------------------- pure checks


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sanitise_filename(filename: str) -> str:
    """The last path part, NFC-normalised, without control characters or leading dots,
    at most 200 characters (the extension kept).  Refuses a name with nothing left."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".").strip()
    if not name:
        raise ValidationFailed(
            "claim.document_filename_invalid",
            f"文件名无效：{filename!r}",
            f"invalid filename: {filename!r}",
        )
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        keep = MAX_FILENAME_CHARS - len(dot + extension)
        name = stem[:keep] + dot + extension if dot and keep > 0 else name[:MAX_FILENAME_CHARS]
    return name


def sniff_media_type(content: bytes) -> str | None:
    """The allowed media type the first bytes announce (magic numbers), or None."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def media_type_for(filename: str) -> str | None:
    """The allowed media type a filename's extension names, or None."""
    lower = filename.lower()
    for media_type, extensions in EXTENSIONS.items():
        if lower.endswith(extensions):
            return media_type
    return None


def check_upload(
    kind: str, filename: str, media_type: str, content: bytes, expected_sha256: str | None
) -> tuple[str, str, str]:
    """Validate an upload before anything is written; returns the clean filename, the media
    type and the content's SHA-256."""
    _check_kind(kind)
    media_type = _check_media_type(media_type)
    _check_size(len(content))
    name = sanitise_filename(filename)
    _check_content(name, media_type, content)
    digest = sha256_hex(content)
    if expected_sha256 is not None:
        _check_checksum(expected_sha256, digest)
    return name, media_type, digest


def _check_kind(kind: str) -> None:
    if kind not in DOCUMENT_KINDS:
        known = ", ".join(DOCUMENT_KINDS)
        raise ValidationFailed(
            "claim.document_kind_unknown",
            f"未知的资料类型“{kind}”，可选：{known}",
            f"unknown document kind {kind!r}; one of: {known}",
        )


def _check_media_type(media_type: str) -> str:
    clean = media_type.split(";", 1)[0].strip().lower()
    if clean not in EXTENSIONS:
        allowed = ", ".join(EXTENSIONS)
        raise ValidationFailed(
            "claim.document_media_type_not_allowed",
            f"不支持的文件类型“{media_type}”，仅支持：{allowed}",
            f"media type {media_type!r} is not accepted; allowed: {allowed}",
        )
    return clean


def _check_size(size: int) -> None:
    if size == 0:
        raise ValidationFailed("claim.document_empty", "文件为空", "the file is empty")
    if size > MAX_DOCUMENT_BYTES:
        limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
        raise ValidationFailed(
            "claim.document_too_large",
            f"文件超过 {limit} MiB 上限",
            f"the file is larger than the {limit} MiB limit",
            size_bytes=size,
        )


def _check_content(filename: str, media_type: str, content: bytes) -> None:
    """The magic bytes and the extension must both agree with the declared media type."""
    sniffed = sniff_media_type(content)
    if sniffed != media_type or not filename.lower().endswith(EXTENSIONS[media_type]):
        found = sniffed or "unknown"
        raise ValidationFailed(
            "claim.document_content_mismatch",
            f"文件“{filename}”的内容（{found}）与声明的类型 {media_type} 或扩展名不符",
            f"the content of {filename!r} ({found}) does not match the declared type "
            f"{media_type} or its extension",
        )


def _check_checksum(expected: str, actual: str) -> None:
    clean = expected.strip().lower()
    if not _SHA256_HEX.fullmatch(clean):
        raise ValidationFailed(
            "claim.document_checksum_invalid",
            "校验值应为 64 位十六进制 SHA-256",
            "the checksum must be a SHA-256 in 64 hexadecimal digits",
        )
    if clean != actual:
        raise ValidationFailed(
            "claim.document_checksum_mismatch",
            "文件校验值不符，文件可能在传输中损坏，请重新上传",
            "the file's checksum does not match; it may have been damaged in transit, "
            "upload it again",
            expected=clean,
            actual=actual,
        )


# --------------------------------------------------------------------------- persistence


class SqlDocumentRepository:
    """Documents and their content-addressed blobs, inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def by_content(self, claim_id: str, sha256: str) -> Document | None:
        row = self._connection.execute(
            select(documents).where(documents.c.claim_id == claim_id, documents.c.sha256 == sha256)
        ).one_or_none()
        return None if row is None else _document(row)

    def get(self, document_id: str) -> Document:
        row = self._connection.execute(
            select(documents).where(documents.c.document_id == document_id)
        ).one_or_none()
        if row is None:
            raise NotFound(
                "claim.document_not_found",
                f"没有理赔资料 {document_id}",
                f"no claim document {document_id}",
            )
        return _document(row)

    def for_claim(self, claim_id: str) -> builtins.list[Document]:
        rows = self._connection.execute(
            select(documents)
            .where(documents.c.claim_id == claim_id)
            .order_by(documents.c.uploaded_at, documents.c.document_id)
        )
        return [_document(row) for row in rows]

    def content(self, sha256: str) -> bytes | None:
        return self._connection.execute(
            select(blobs.c.content).where(blobs.c.sha256 == sha256)
        ).scalar_one_or_none()

    def add_blob(self, sha256: str, content: bytes) -> None:
        """Store the content unless it is already there (from any claim)."""
        if self._blob_exists(sha256):
            return
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    insert(blobs).values(sha256=sha256, size_bytes=len(content), content=content)
                )
        except IntegrityError:
            pass  # a concurrent upload stored the same content first: nothing more to do

    def add(self, document: Document) -> bool:
        """Insert the row; False when a concurrent upload attached the same content first."""
        try:
            with self._connection.begin_nested():
                self._connection.execute(insert(documents).values(_row(document)))
        except IntegrityError:
            return False
        return True

    def _blob_exists(self, sha256: str) -> bool:
        found = self._connection.execute(select(blobs.c.sha256).where(blobs.c.sha256 == sha256))
        return found.first() is not None


def _row(document: Document) -> dict[str, Any]:
    return {name: getattr(document, name) for name in Document.__dataclass_fields__}


def _document(row: Any) -> Document:
    return Document(
        row.document_id,
        row.claim_id,
        row.kind,
        row.filename,
        row.media_type,
        int(row.size_bytes),
        row.sha256,
        row.uploaded_at,
    )


# --------------------------------------------------------------------------- use cases


@dataclass
class DocumentService:
    """Attach, list and read a claim's documents; the entry every edge calls."""

    uow: Callable[[], SqlClaimsUnitOfWork]
    clock: Clock
    new_id: Callable[[], str]

    def attach(
        self,
        claim_id: str,
        kind: str,
        filename: str,
        media_type: str,
        content: bytes,
        expected_sha256: str | None = None,
    ) -> Document:
        """Check the upload, then in one transaction store the blob (once), the document
        and a ``claim.document_added`` event.  The same content attached to the same claim
        again returns the first document and writes nothing."""
        name, clean_type, digest = check_upload(
            kind, filename, media_type, content, expected_sha256
        )
        with self.uow() as uow:
            uow.claims.get(claim_id)
            repository = SqlDocumentRepository(uow.connection)
            existing = repository.by_content(claim_id, digest)
            if existing is not None:
                return existing
            document = Document(
                self.new_id(), claim_id, kind, name, clean_type, len(content), digest, self.clock()
            )
            repository.add_blob(digest, content)
            if not repository.add(document):
                return _attached_meanwhile(repository, claim_id, digest)
            uow.events.append(_added_event(document))
            uow.commit()
        return document

    def list(self, claim_id: str) -> builtins.list[Document]:
        """The claim's documents, oldest first."""
        with self.uow() as uow:
            uow.claims.get(claim_id)
            return SqlDocumentRepository(uow.connection).for_claim(claim_id)

    def read(self, document_id: str) -> tuple[Document, bytes]:
        """The document and its content, after checking the content still has the size and
        SHA-256 it was stored under (raises ``claim.document_corrupted`` otherwise)."""
        with self.uow() as uow:
            repository = SqlDocumentRepository(uow.connection)
            document = repository.get(document_id)
            content = repository.content(document.sha256)
        return document, _verified(document, content)


def _attached_meanwhile(repository: SqlDocumentRepository, claim_id: str, digest: str) -> Document:
    found = repository.by_content(claim_id, digest)
    assert found is not None, "the unique constraint fired, so the row exists"
    return found


def _added_event(document: Document) -> Event:
    payload = {
        "document_id": document.document_id,
        "kind": document.kind,
        "filename": document.filename,
        "media_type": document.media_type,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
    }
    return Event("claim", document.claim_id, "claim.document_added", payload, document.uploaded_at)


def _verified(document: Document, content: bytes | None) -> bytes:
    """The content, if it still has the document's size and checksum."""
    actual = None if content is None else sha256_hex(content)
    if content is not None and actual == document.sha256 and len(content) == document.size_bytes:
        return content
    raise DocumentCorrupted(
        "claim.document_corrupted",
        f"理赔资料 {document.document_id} 的存储内容与校验值不符，已拒绝读取",
        f"the stored content of claim document {document.document_id} no longer matches "
        "its checksum; it was not returned",
        expected=document.sha256,
        actual=actual or "missing",
    )


__all__ = [
    "DOCUMENT_KINDS",
    "EXTENSIONS",
    "MAX_DOCUMENT_BYTES",
    "Document",
    "DocumentCorrupted",
    "DocumentService",
    "SqlDocumentRepository",
    "check_upload",
    "media_type_for",
    "sanitise_filename",
    "sha256_hex",
    "sniff_media_type",
]
