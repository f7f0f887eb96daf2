"""Personal data at rest (身份证号, 手机号): AES-256-GCM field encryption and blind indexes.

A ciphertext is ``"v1:" + urlsafe-base64(nonce ‖ ciphertext ‖ tag)`` with a fresh 12-byte
random nonce, so the same number encrypts differently every time.  Unique lookups use a
*blind index*: HMAC-SHA256 under a sub-key derived from the master key with HKDF, which is
deterministic and reveals nothing without the key.

>>> cipher = FieldCipher.from_encoded(FieldCipher.generate_key())
>>> token = cipher.encrypt("11010519491231002X")
>>> token.startswith("v1:") and "11010519491231002X" not in token
True
>>> cipher.decrypt(token)
'11010519491231002X'
>>> cipher.blind_index("11010519491231002X") == cipher.blind_index("11010519491231002X")
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from baoxian.shared.errors import DomainError
from baoxian.store.db import is_sqlite, sqlite_file

DATA_KEY_ENV = "BAOXIAN_DATA_KEY"
KEY_FILE_NAME = "data.key"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = "v1"
_PREFIX = KEY_ID + ":"
_BLIND_INDEX_INFO = b"baoxian/blind-index/v1"


class DataKeyError(DomainError):
    """The data key is missing, malformed, or does not open a stored value."""


class FieldCipher:
    """Encrypts and decrypts single fields; one instance is shared and thread-safe."""

    __slots__ = ("_aead", "_mac", "_master")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise _invalid_key(f"{len(key)} bytes")
        self._aead = AESGCM(key)
        self._master = key
        self._mac = hmac.new(_blind_index_key(key), digestmod=hashlib.sha256)

    @classmethod
    def from_encoded(cls, encoded: str) -> FieldCipher:
        return cls(decode_key(encoded))

    @staticmethod
    def generate_key() -> str:
        """A new random master key, urlsafe base64 (the form ``BAOXIAN_DATA_KEY`` takes)."""
        return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> str:
        if not token.startswith(_PREFIX):
            raise _undecryptable(f"unknown key id in {token[:4]!r}")
        try:
            raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise _undecryptable(type(exc).__name__) from exc

    def derive_key(self, purpose: str) -> bytes:
        """A sub-key for one purpose (web sessions, sign-in codes), derived with HKDF so the
        master key itself never leaves this object."""
        return HKDF(
            hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"baoxian/{purpose}/v1".encode()
        ).derive(self._master)

    def mobile_index(self, mobile: str) -> str:
        """Blind index of a mobile number, in its own domain (never equal to an ID's)."""
        return self.blind_index("mobile:" + mobile.strip())

    def blind_index(self, value: str) -> str:
        """Deterministic keyed hash (hex) for equality lookups on an encrypted field."""
        mac = self._mac.copy()
        mac.update(value.encode())
        return mac.hexdigest()


def decode_key(encoded: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(encoded.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise _invalid_key("not urlsafe base64") from exc
    if len(key) != KEY_BYTES:
        raise _invalid_key(f"{len(key)} bytes")
    return key


def load_data_key(database_url: str) -> bytes:
    """The master key: ``BAOXIAN_DATA_KEY`` if set; for a SQLite file database otherwise a
    ``data.key`` beside it (created with mode 0600 on first use — dev and demo only); an
    in-memory SQLite database gets a throw-away key.  PostgreSQL requires the variable."""
    encoded = os.environ.get(DATA_KEY_ENV)
    if encoded:
        return decode_key(encoded)
    if not is_sqlite(database_url):
        raise DataKeyError(
            "store.data_key_missing",
            f"未设置数据加密密钥：使用 PostgreSQL 时必须设置环境变量 {DATA_KEY_ENV}"
            "（32字节密钥的 urlsafe base64，可用 FieldCipher.generate_key() 生成）",
            f"no data encryption key: set {DATA_KEY_ENV} (urlsafe base64 of 32 bytes, e.g. from "
            "FieldCipher.generate_key()) when the store is PostgreSQL",
        )
    database = sqlite_file(database_url)
    if database is None:
        return os.urandom(KEY_BYTES)
    return key_file(database.parent / KEY_FILE_NAME)


def key_file(path: Path) -> bytes:
    """Read the key file, creating it with mode 0600 if it does not exist yet.  The key is
    written to a private temporary file and linked into place, so a concurrent reader never
    sees a half-written key and two first users agree on one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(FieldCipher.generate_key() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return decode_key(path.read_text(encoding="ascii"))


def _blind_index_key(master: bytes) -> bytes:
    return HKDF(hashes.SHA256(), length=KEY_BYTES, salt=None, info=_BLIND_INDEX_INFO).derive(master)


def _invalid_key(why: str) -> DataKeyError:
    return DataKeyError(
        "store.data_key_invalid",
        f"数据加密密钥无效（须为32字节密钥的 urlsafe base64）：{why}",
        f"invalid data encryption key (must be urlsafe base64 of 32 bytes): {why}",
    )


def _undecryptable(why: str) -> DataKeyError:
    return DataKeyError(
        "store.data_key_mismatch",
        f"无法解密已存储的个人信息：密钥不匹配或数据已损坏（{why}）",
        f"cannot decrypt stored personal data: wrong key or corrupted value ({why})",
    )
