"""Field encryption, blind indexes and where the data key comes from."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from baoxian.store.crypto import DATA_KEY_ENV, DataKeyError, FieldCipher, load_data_key

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_KEY_ENV, raising=False)


def test_encrypt_decrypt_round_trip_with_fresh_nonces(cipher: FieldCipher) -> None:
    first, second = cipher.encrypt(ID_NUMBER), cipher.encrypt(ID_NUMBER)
    assert first.startswith("v1:") and first != second
    assert ID_NUMBER not in first
    assert cipher.decrypt(first) == cipher.decrypt(second) == ID_NUMBER
    assert cipher.decrypt(cipher.encrypt("北京市朝阳区")) == "北京市朝阳区"


def test_blind_index_is_deterministic_and_keyed(cipher: FieldCipher) -> None:
    other = FieldCipher.from_encoded(FieldCipher.generate_key())
    digest = cipher.blind_index(ID_NUMBER)
    assert digest == cipher.blind_index(ID_NUMBER)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != other.blind_index(ID_NUMBER)
    assert digest != cipher.blind_index("110101197501010039")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "v9:" + t[3:],
        lambda t: "v1:not base64!",
    ],
)
def test_tampered_or_foreign_values_are_refused(cipher: FieldCipher, mangle: object) -> None:
    assert callable(mangle)
    with pytest.raises(DataKeyError) as refused:
        cipher.decrypt(mangle(cipher.encrypt(ID_NUMBER)))
    assert refused.value.code == "store.data_key_mismatch"


def test_a_different_key_cannot_decrypt(cipher: FieldCipher) -> None:
    other = FieldCipher.from_encoded(FieldCipher.generate_key())
    with pytest.raises(DataKeyError):
        other.decrypt(cipher.encrypt(ID_NUMBER))


def test_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = FieldCipher.generate_key()
    monkeypatch.setenv(DATA_KEY_ENV, encoded)
    expected = base64.urlsafe_b64decode(encoded)
    assert load_data_key("postgresql+psycopg://app@db/baoxian") == expected
    assert load_data_key("sqlite:///var/baoxian.db") == expected


@pytest.mark.parametrize("bad", ["short", base64.urlsafe_b64encode(b"x" * 16).decode(), "€"])
def test_malformed_keys_are_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(DATA_KEY_ENV, bad)
    with pytest.raises(DataKeyError) as refused:
        load_data_key("sqlite:///var/baoxian.db")
    assert refused.value.code == "store.data_key_invalid"


@pytest.mark.usefixtures("no_env_key")
def test_postgres_without_a_key_fails_fast() -> None:
    with pytest.raises(DataKeyError) as missing:
        load_data_key("postgres://app@db/baoxian")
    assert missing.value.code == "store.data_key_missing"
    assert DATA_KEY_ENV in missing.value.zh and DATA_KEY_ENV in missing.value.en


@pytest.mark.usefixtures("no_env_key")
def test_sqlite_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'baoxian.db'}"
    key = load_data_key(url)
    key_path = tmp_path / "var" / "data.key"
    assert len(key) == 32
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert load_data_key(url) == key
    assert [p.name for p in key_path.parent.iterdir()] == ["data.key"]


@pytest.mark.usefixtures("no_env_key")
def test_in_memory_sqlite_gets_a_throwaway_key() -> None:
    assert len(load_data_key("sqlite://")) == 32
    assert load_data_key("sqlite://") != load_data_key("sqlite://")


def test_generated_keys_are_32_random_bytes() -> None:
    keys = {FieldCipher.generate_key() for _ in range(3)}
    assert len(keys) == 3
    assert all(len(base64.urlsafe_b64decode(k)) == 32 for k in keys)
