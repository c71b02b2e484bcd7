"""One router per resource (FastAPI "bigger applications"), each with its JSON routes under ``/api`` and its
pages: :mod:`~storyreel.web.routes.accounts`, :mod:`~storyreel.web.routes.projects`,
:mod:`~storyreel.web.routes.shots`, :mod:`~storyreel.web.routes.media`, :mod:`~storyreel.web.routes.editor` (the timeline
editor and versions), :mod:`~storyreel.web.routes.jobs`; the API reference page in
:mod:`~storyreel.web.routes.docs`.
A new page goes into its resource's module; the data it shows comes from :mod:`storyreel.api`."""

from __future__ import annotations

from storyreel.web.routes import accounts, docs, editor, jobs, media, projects, shots

ROUTERS = (accounts.api, projects.api_router, shots.api_router, media.api_router, editor.api_router, jobs.api_router,
           accounts.pages, projects.pages, shots.pages, editor.pages, jobs.pages, docs.pages)
"""Every router, JSON first (the order FastAPI matches them in)."""
