"""The web dashboard (``storyreel serve``): FastAPI, server-rendered Jinja2 templates, HTMX (vendored) for
partial updates, Server-Sent Events for live job progress, and a JSON API under ``/api`` that does
everything the pages do (``/openapi.json`` documents it).

Routes call :mod:`storyreel.api` (and the job service, :mod:`storyreel.jobs.service`) only: no SQL, no
engine, no pipeline logic lives here — what a page shows comes from :mod:`storyreel.api.library`.

- :mod:`storyreel.web.app` — the application: middleware (CSRF, security headers), error mapping, lifespan.
- :mod:`storyreel.web.deps` — the request's workspace session, who is asking (session cookie or
  ``Authorization: Bearer`` token) and the asker's project.
- :mod:`storyreel.web.routes` — one router per resource (accounts, projects, shots, media, jobs), each with
  its JSON API and its pages.
- :mod:`storyreel.web.templating` — templates and what every page route shares.
- :mod:`storyreel.web.files` — a project's files, resolved inside its folder, with HTTP range requests.
"""
