"""The identity context's tables: one-time-code challenges, the request log the rate limits
count, and staff users."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table

from baoxian.store.tables import JsonData, UtcDateTime, metadata

challenges = Table(
    "sign_in_challenges",
    metadata,
    Column("challenge_id", String(36), primary_key=True),
    Column("mobile_hash", String(64), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("tries", Integer, nullable=False),
    Column("used", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

requests = Table(
    "sign_in_requests",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("scope", String(80), nullable=False),  # "phone:<hash>" / "client:<address>"
    Column("at", UtcDateTime, nullable=False),
)
Index("ix_sign_in_requests_scope_at", requests.c.scope, requests.c.at)

staff_users = Table(
    "staff_users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("roles", JsonData, nullable=False),
    Column("authority_fen", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
