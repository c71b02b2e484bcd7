"""The dashboard application: :func:`create_app` builds it for a workspace.

Middleware, outermost first: security headers (CSP without inline scripts or styles,
``frame-ancestors 'none'``, ``nosniff``, ``Referrer-Policy``), then CSRF (``asgi-csrf``: a signed
double-submit cookie; every state-changing request carrying cookies must echo the token in the
``csrftoken`` form field or the ``x-csrftoken`` header — HTMX sends the header from ``hx-headers`` on
``<body>``; requests authenticated by ``Authorization: Bearer`` and cookie-less requests are exempt,
since a browser cannot be made to send them cross-site).
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path

from asgi_csrf import asgi_csrf
from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from filelock import FileLock, Timeout
from starlette.datastructures import MutableHeaders

from storyreel import __version__, api
from storyreel.api.accounts import Throttled
from storyreel.core.errors import InputError, StoryreelError
from storyreel.jobs.queue import EmbeddedConsumer
from storyreel.web.deps import LoginRequired
from storyreel.web.routes import ROUTERS
from storyreel.web.templating import error_page

log = logging.getLogger("storyreel.web")
HERE = Path(__file__).parent

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "same-origin",
                    "x-frame-options": "DENY", "cross-origin-opener-policy": "same-origin"}


class SecurityHeaders:
    """Pure ASGI middleware (streams such as SSE pass through untouched) adding :data:`SECURITY_HEADERS`."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


MULTIPART_FORMS = frozenset({"/new"})
"""Pages whose multipart form checks its CSRF field itself (:func:`storyreel.web.routes.projects.check_csrf`):
asgi-csrf 0.11's multipart parser calls python-multipart with an argument that python-multipart ≥ 0.0.13
no longer takes, so asgi-csrf is told to skip exactly these requests."""


def checked_in_route(scope) -> bool:  # noqa: ANN001
    headers = dict(scope.get("headers") or [])
    return scope["path"] in MULTIPART_FORMS and headers.get(b"content-type", b"").startswith(b"multipart/form-data")


def _signing_key(settings) -> str:  # noqa: ANN001
    """``STORYREEL_SECRET_KEY``, else a random key kept in ``<workspace>/.secret_key`` (mode 600), so tokens
    survive a restart and every server of one workspace agrees."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.workspace / ".secret_key"
    if not path.exists():
        settings.workspace.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as fh:
                fh.write(secrets.token_urlsafe(48))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


def _api_error(request: Request, status: int, detail: str, **extra: object) -> JSONResponse | None:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail, **extra}, status_code=status, headers=extra.pop("headers", None))  # type: ignore[arg-type]
    return None


def create_app(workspace: Path | None = None, *, workers: int = 1) -> FastAPI:
    """The dashboard for ``workspace`` (default: the settings' workspace). ``workers`` > 0 runs that many
    jobs at once inside this process (the embedded Huey consumer); 0 leaves jobs to ``storyreel worker``."""
    ws = api.Workspace.open(workspace)
    settings = ws.settings
    settings.workspace.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        ws.store  # noqa: B018 - the database is migrated before the first request
        consumer, lock = None, None
        if workers > 0:
            lock = FileLock(settings.workspace / "consumer.lock")
            try:  # one consumer per workspace among this server's processes (and other servers of it)
                lock.acquire(timeout=0)
            except Timeout:
                lock = None
                log.info("another process of this workspace runs the job consumer")
            else:
                consumer = EmbeddedConsumer(settings, workers)
                consumer.start()
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop()
            if lock is not None:
                lock.release()

    app = FastAPI(title="storyreel", version=__version__, lifespan=lifespan,
                  description="Text to finished video. Everything the dashboard does, as JSON. Authenticate with "
                              "`POST /api/auth/token` and send `Authorization: Bearer <access_token>`.")
    app.state.settings = settings
    app.state.root = settings.workspace
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):  # noqa: ANN202
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return JSONResponse({"detail": "sign in"}, status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={target}" if target.startswith("/") and not target.startswith("//") else "/login", 303)

    @app.exception_handler(api.NotFound)
    async def _not_found(request: Request, exc: api.NotFound):  # noqa: ANN202
        return _api_error(request, 404, exc.message) or error_page(request, 404, "Not found", exc.message)

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, exc: InputError):  # noqa: ANN202
        return (_api_error(request, 422, exc.message, field=exc.field, hint=exc.hint)
                or error_page(request, 422, "That did not work", str(exc)))

    @app.exception_handler(Throttled)
    async def _throttled(request: Request, exc: Throttled):  # noqa: ANN202
        return JSONResponse({"detail": str(exc)}, status_code=429, headers={"Retry-After": str(exc.retry_after_s)})

    @app.exception_handler(api.JobConflict)
    @app.exception_handler(api.ProjectBusy)
    async def _busy(request: Request, exc: StoryreelError):  # noqa: ANN202
        return _api_error(request, 409, str(exc)) or error_page(request, 409, "Busy", str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):  # noqa: ANN202
        return (_api_error(request, exc.status_code, str(exc.detail), headers=exc.headers)
                or error_page(request, exc.status_code, "Not found" if exc.status_code == 404 else "Error", str(exc.detail)))

    app.add_middleware(asgi_csrf, signing_secret=_signing_key(settings), cookie_secure=settings.cookie_secure,
                       always_protect={"/logout"}, skip_if_scope=checked_in_route)
    app.add_middleware(SecurityHeaders)  # outermost: CSRF failures get the headers too
    return app
