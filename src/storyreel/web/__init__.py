"""The web dashboard (``storyreel serve``): FastAPI, server-rendered Jinja2 templates, HTMX (vendored) for
partial updates, Server-Sent Events for live job progress, and a JSON API under ``/api`` that does
everything the pages do (``/openapi.json`` documents it).

Routes call :mod:`storyreel.api` only; no pipeline logic lives here.

- :mod:`storyreel.web.app` — the application: middleware (CSRF, security headers), error mapping, lifespan.
- :mod:`storyreel.web.auth` — who is asking: session cookie or ``Authorization: Bearer`` token.
- :mod:`storyreel.web.api_routes` — the JSON API; :mod:`storyreel.web.pages` — the HTML pages.
- :mod:`storyreel.web.files` — a project's files, resolved inside its folder, with HTTP range requests.
- :mod:`storyreel.web.views` — what a page shows of a project (shots, images, QC, cost), shared by both.
"""
