"""The composition root: the one place that connects settings, store, catalogue and services.

Nothing connects at import time; :func:`build` does it when a process starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from baoxian.billing.gateway import FakeGateway
from baoxian.billing.services import BillingService
from baoxian.catalog.repository import CatalogRepository
from baoxian.catalog.services import Catalog
from baoxian.claims.documents import DocumentService
from baoxian.claims.repository import SqlClaimsUnitOfWorkFactory
from baoxian.claims.services import ClaimService
from baoxian.identity.services import IdentityService
from baoxian.outreach.channels import NoticeChannel
from baoxian.outreach.delivery import ChannelPort
from baoxian.outreach.outbox import OutboxDispatcher
from baoxian.outreach.services import OutreachService
from baoxian.policies.certificate import CertificateService
from baoxian.policies.membership import MembershipService
from baoxian.policies.repository import SqlUnitOfWorkFactory
from baoxian.policies.requests_service import ChangeRequestService
from baoxian.policies.requests_store import SqlChangeUnitOfWorkFactory
from baoxian.policies.services import PolicyService
from baoxian.settings import Settings
from baoxian.shared.clock import Clock, system_clock
from baoxian.shared.ids import new_id
from baoxian.store.crypto import FieldCipher, load_data_key
from baoxian.store.db import make_engine
from baoxian.store.migrate import upgrade


@dataclass
class App:
    settings: Settings
    engine: Engine
    cipher: FieldCipher
    catalog: Catalog
    policies: PolicyService
    uow: SqlUnitOfWorkFactory
    claims: ClaimService
    documents: DocumentService
    outreach: OutreachService
    identity: IdentityService
    billing: BillingService  # paying for policies bought online (a fake gateway for now)
    certificates: CertificateService
    changes: ChangeRequestService
    members: MembershipService  # group members in batches (the partner API)


def build(
    settings: Settings | None = None,
    clock: Clock = system_clock,
    migrate: bool = True,
    engine: Engine | None = None,
) -> App:
    """Wire a process: migrate the store to head, load and validate the catalogue.
    ``engine`` replaces the one made from the settings' URL (tests on a schema of their own)."""
    settings = settings or Settings.from_env()
    cipher = FieldCipher(load_data_key(settings.database_url))  # fail fast, before any I/O
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    catalog = Catalog(CatalogRepository(settings.catalog_dir))
    uow = SqlUnitOfWorkFactory(engine, cipher)
    policies = PolicyService(uow=uow, catalog=catalog, clock=clock, new_id=new_id)
    claims = ClaimService(
        uow=SqlClaimsUnitOfWorkFactory(engine, clock),
        policies=policies,
        catalog=catalog,
        clock=clock,
        new_id=new_id,
    )
    documents = DocumentService(SqlClaimsUnitOfWorkFactory(engine, clock), clock, new_id)
    outreach = OutreachService(engine, cipher, clock, new_id)
    identity = IdentityService(
        engine, policies, outreach, cipher.derive_key("sign-in-codes"), clock, new_id
    )
    return App(
        settings,
        engine,
        cipher,
        catalog,
        policies,
        uow,
        claims,
        documents=documents,
        outreach=outreach,
        identity=identity,
        billing=BillingService(engine, FakeGateway(), policies, catalog, outreach, clock, new_id),
        certificates=CertificateService(uow, catalog, cipher.derive_key("policy-certificate")),
        changes=ChangeRequestService(
            uow=SqlChangeUnitOfWorkFactory(engine, cipher),
            policies=policies,
            notifier=outreach,
            sms=outreach,
            link_key=cipher.derive_key("link-push"),
            mobile_index=cipher.mobile_index,
            clock=clock,
            new_id=new_id,
        ),
        members=MembershipService(uow=uow, catalog=catalog, clock=clock),
    )


def outbox_dispatcher(app: App, worker: str, clock: Clock = system_clock) -> OutboxDispatcher:
    """The outbox's delivery worker with this process's channels: the inbox (站内信) is real;
    no SMS, e-mail, push or webhook gateway is wired yet, so those notices land in the
    development text-message outbox (the one the demo sign-in page shows)."""
    inbox = NoticeChannel(app.engine, app.cipher.mobile_index, clock, "inbox")
    outside = NoticeChannel(app.engine, app.cipher.mobile_index, clock, "sms")
    channels: dict[str, ChannelPort] = {
        "inbox": inbox,
        "sms": outside,
        "email": outside,
        "push": outside,
        "webhook": outside,
    }
    return OutboxDispatcher(app.engine, channels, app.cipher, clock, worker)
