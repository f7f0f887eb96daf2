"""The partner REST API (``/api/v1``): the same service layer as the portal, the console and
the CLI, behind OAuth2 client credentials, customer and staff tokens, idempotency keys, rate
limits and problem+json errors.  :func:`baoxian.api.app.create_api` builds the ASGI app."""
