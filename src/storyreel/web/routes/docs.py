"""The API reference (``/docs``, the footer's "API" link): Swagger UI served from the ``fastapi-offline``
wheel's files (``/docs-assets``), started by ``static/docs.js`` — nothing from a CDN, no inline script. Its
page alone allows inline styles (Swagger UI sets some); every other page keeps the strict policy."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from storyreel.web.templating import render

ASSETS = Path(fastapi_offline.__file__).parent / "static"
"""swagger-ui-bundle.js, swagger-ui.css (Swagger UI 5: OpenAPI 3.1, which FastAPI writes)."""
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

pages = APIRouter(include_in_schema=False)


@pages.get("/docs")
async def docs(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    page = render(request, "docs.html")
    page.headers["content-security-policy"] = CSP
    return page
