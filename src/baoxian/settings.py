"""Typed settings read once at start-up from the environment; they fail fast."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/baoxian.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    catalog_dir: Path

    @classmethod
    def from_env(cls, database_url: str | None = None, catalog_dir: Path | None = None) -> Settings:
        return cls(
            database_url=database_url
            or os.environ.get("BAOXIAN_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            catalog_dir=catalog_dir or Path(os.environ.get("BAOXIAN_CATALOG", "catalog")),
        )
