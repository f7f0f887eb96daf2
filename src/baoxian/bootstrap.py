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
from baoxian.outreach.services import OutreachService
from baoxian.policies.certificate import CertificateService
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
    )
