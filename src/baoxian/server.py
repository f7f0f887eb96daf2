"""The served process: the REST API at ``/api/v1`` and the portal and console at ``/``,
over one built application (``baoxian serve``).  Behind several worker processes, each
builds its own from the environment::

    uvicorn --factory baoxian.server:from_env --workers 2
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Mount

from baoxian.api.app import close_direct_writes, create_api
from baoxian.bootstrap import App, build
from baoxian.settings import Settings

API_PREFIX = "/api/v1"


def create_server(application: App, demo: bool = False) -> Starlette:
    """One ASGI app: the API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``) and
    the web edge everywhere else."""
    from baoxian.web.app import create_app

    api = create_api(application)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await close_direct_writes(api)

    return Starlette(
        routes=[
            Mount(API_PREFIX, app=api),
            Mount("/", app=create_app(application, demo=demo)),
        ],
        lifespan=lifespan,
    )


def from_env() -> Starlette:
    """The served app over an application built from the environment (one per worker)."""
    return create_server(build(Settings.from_env()))


__all__ = ["API_PREFIX", "create_server", "from_env"]
