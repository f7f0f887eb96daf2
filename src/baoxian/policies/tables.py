"""The policies context's tables (Core, mapped to the domain by hand in ``repository.py``).

Money is whole fen in BIGINT columns; personal data (身份证号, mobile numbers, beneficiaries'
ID numbers) is encrypted (``*_enc``) with a blind index (``id_hash``) for lookups.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from baoxian.store.tables import JsonData, UtcDateTime, metadata

parties = Table(
    "parties",
    metadata,
    Column("party_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("id_number_enc", Text, nullable=False),
    Column("id_hash", String(64), nullable=False, unique=True),
    Column("mobile_enc", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("has_basic_medical", Boolean, nullable=True),
    Column("medical_insurance_city", String(12), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # blind index of the mobile (sign-in by phone); NULL for rows written before 0006
    Column("mobile_hash", String(64), nullable=True, index=True),
    CheckConstraint("kind IN ('person', 'organisation')", name="kind"),
)

quotes = Table(
    "quotes",
    metadata,
    Column("quote_id", String(36), primary_key=True),
    Column("holder_id", String(36), ForeignKey("parties.party_id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("product_code", String(32), nullable=False),
    Column("plan_version", String(32), nullable=False),
    Column("data", JsonData, nullable=False),
    Column("policy_number", String(32), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("policy_number", String(32), primary_key=True),
    Column("product_code", String(32), nullable=False),
    Column("plan_version", String(32), nullable=False),
    Column("holder_id", String(36), ForeignKey("parties.party_id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("original_inception", Date, nullable=False),
    Column("term_no", Integer, nullable=False),
    Column("term_start", Date, nullable=False),
    Column("term_end", Date, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("instalment", String(16), nullable=False),
    Column("riders", JsonData, nullable=False),
    Column("optional_coverages", JsonData, nullable=False),
    Column("selections", JsonData, nullable=False),
    Column("annual_premium_fen", BigInteger, nullable=False),
    Column("premium_charged_fen", BigInteger, nullable=False),
    Column("contact_mobile_enc", Text, nullable=False),
    Column("contact_address", Text, nullable=False),
    Column("beneficiaries", JsonData, nullable=False),
    Column("is_group", Boolean, nullable=False),
    Column("member_count", Integer, nullable=False),
    Column("endorsement_count", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

policy_units = Table(
    "policy_units",
    metadata,
    Column("policy_number", String(32), ForeignKey("policies.policy_number"), primary_key=True),
    Column("unit_key", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("party_id", String(36), ForeignKey("parties.party_id"), nullable=True, index=True),
    Column("facts", JsonData, nullable=False),
    Column("details", JsonData, nullable=False),
    Column("declared_sum_insured_fen", BigInteger, nullable=True),
    Column("cover", JsonData, nullable=False),
    Column("premium_fen", BigInteger, nullable=True),
    Column("added_on", Date, nullable=True),
    Column("enrolment_batch", String(64), nullable=True),
    CheckConstraint("kind IN ('person', 'site', 'vehicle')", name="kind"),
)

policy_terms = Table(
    "policy_terms",
    metadata,
    Column("policy_number", String(32), ForeignKey("policies.policy_number"), primary_key=True),
    Column("term_no", Integer, primary_key=True),
    Column("plan_version", String(32), nullable=False),
    Column("term_start", Date, nullable=False),
    Column("term_end", Date, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("cover", JsonData, nullable=False),  # [[unit_key, coverage, fen], …]
    Column("archived_at", UtcDateTime, nullable=False),
)

# 保全申请 and 慧保全 links (``policies/requests.py``).  The requested values hold personal
# data (phone numbers, beneficiaries' ID numbers), so they are stored encrypted as one JSON
# document; a customer requester or a link's phone is kept only as its blind index.
change_requests = Table(
    "change_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column(
        "policy_number",
        String(32),
        ForeignKey("policies.policy_number"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(24), nullable=False),
    Column("status", String(16), nullable=False),
    Column("values_enc", Text, nullable=False),
    Column("requested_by_kind", String(16), nullable=False),
    Column("requested_by", String(64), nullable=False),  # mobile blind index or staff ID
    Column("effective", Date, nullable=True),
    Column("comment", Text, nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint(
        "kind IN ('contact', 'beneficiary', 'vehicle_details', 'site_details')", name="kind"
    ),
    CheckConstraint(
        "status IN ('submitted', 'applied', 'pending_review', 'approved', 'declined')",
        name="status",
    ),
    CheckConstraint("requested_by_kind IN ('customer', 'staff')", name="requested_by_kind"),
)
Index(
    "ix_change_requests_status_created_at", change_requests.c.status, change_requests.c.created_at
)

change_links = Table(
    "change_links",
    metadata,
    Column("link_id", String(36), primary_key=True),
    Column("policy_number", String(32), ForeignKey("policies.policy_number"), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("values_enc", Text, nullable=False),
    Column("mobile_hash", String(64), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# Member batches of the partner API (``policies/membership.py``): one row per enrolment or
# removal batch (the batch ID is the request's idempotency key), every rejected row of it,
# and the members a removal took off a policy — kept with their facts, cover and premium,
# because ``policy_units`` holds only the current members.
member_batches = Table(
    "member_batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column(
        "policy_number",
        String(32),
        ForeignKey("policies.policy_number"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(16), nullable=False),
    Column("effective", Date, nullable=False),
    Column("received", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("already_enrolled", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("premium_charged_fen", BigInteger, nullable=False),
    Column("refund_fen", BigInteger, nullable=False),
    Column("annual_premium_change_fen", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('enrolment', 'removal')", name="kind"),
)

member_batch_rejections = Table(
    "member_batch_rejections",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("code", String(64), nullable=False),
    Column("zh", Text, nullable=False),
    Column("en", Text, nullable=False),
)

policy_unit_removals = Table(
    "policy_unit_removals",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("unit_key", String(64), primary_key=True),
    Column("policy_number", String(32), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("party_id", String(36), nullable=True),
    Column("facts", JsonData, nullable=False),
    Column("cover", JsonData, nullable=False),
    Column("annual_premium_fen", BigInteger, nullable=False),
    Column("refund_fen", BigInteger, nullable=False),
    Column("added_on", Date, nullable=True),
    Column("enrolment_batch", String(64), nullable=True),
    Column("removed_on", Date, nullable=False),
)
Index(
    "ix_policy_unit_removals_policy_number_unit_key",
    policy_unit_removals.c.policy_number,
    policy_unit_removals.c.unit_key,
)
