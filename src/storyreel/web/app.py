"""The dashboard application: :func:`create_app` builds it for a workspace.

Middleware (:mod:`storyreel.web.middleware`), outermost first: security headers (CSP without inline scripts or styles,
``frame-ancestors 'none'``, ``nosniff``, ``Referrer-Policy``); the client's address from ``X-Forwarded-For``
when — only when — a trusted proxy (``STORYREEL_TRUSTED_PROXIES``) sent it; ``HEAD`` answered as ``GET``.
Request bodies are bounded: :data:`~storyreel.web.csrf.SMALL_BODY` for every route (Starlette's body limiter,
as middleware here so its 413 is said in words with the security headers) but those that take a person's
text or file (their ``max_body_size``: :data:`~storyreel.web.csrf.UPLOAD_BODY`); a ``Content-Length`` over the
route's limit is refused before the route runs (:func:`~storyreel.web.csrf.protect`).
Every route depends on the CSRF check (:mod:`storyreel.web.csrf`: a signed double-submit token bound to the
session, and ``Origin``/``Referer``).
"""

from __future__ import annotations

import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from filelock import FileLock, Timeout
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from storyreel import __version__, api
from storyreel.api.accounts import Throttled
from storyreel.core.errors import InputError, StoryreelError
from storyreel.jobs.queue import EmbeddedConsumer
from storyreel.web import csrf
from storyreel.web.deps import LoginRequired
from storyreel.web.middleware import HeadAsGet, SecurityHeaders, TooLargeInWords
from storyreel.web.routes import ROUTERS
from storyreel.web.templating import ERROR_TITLES, api_error, error_page

log = logging.getLogger("storyreel.web")
HERE = Path(__file__).parent

def _signing_key(settings) -> str:  # noqa: ANN001
    """``STORYREEL_SECRET_KEY``, else a random key kept in ``<workspace>/.secret_key`` (mode 600), so tokens
    survive a restart and every server of one workspace agrees."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.workspace / ".secret_key"
    if not path.exists():
        api.Workspace.private(settings.workspace)
        try:
            with open(path, "x", encoding="ascii") as fh:
                fh.write(secrets.token_urlsafe(48))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


def create_app(workspace: Path | None = None, *, workers: int = 1) -> FastAPI:
    """The dashboard for ``workspace`` (default: the settings' workspace). ``workers`` > 0 runs that many
    jobs at once inside this process (the embedded Huey consumer); 0 leaves jobs to ``storyreel worker``."""
    ws = api.Workspace.open(workspace)
    settings = ws.settings
    api.Workspace.private(settings.workspace)

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

    app = FastAPI(title="storyreel", version=__version__, lifespan=lifespan, dependencies=[Depends(csrf.protect)],
                  docs_url=None, redoc_url=None,  # /docs is routes/docs.py: a page of the site, no CDN
                  description="Text to finished video. Everything the dashboard does, as JSON. Authenticate with "
                              "`POST /api/auth/token` and send `Authorization: Bearer <access_token>`.")
    app.state.settings = settings
    app.state.root = settings.workspace
    app.state.signing_key = _signing_key(settings)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):  # noqa: ANN202
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return JSONResponse({"detail": "sign in"}, status_code=401, headers={"HX-Redirect": "/login"})
        if not target.startswith("/") or target.startswith("//"):
            return RedirectResponse("/login", 303)
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", 303)

    @app.exception_handler(api.NotFound)
    async def _not_found(request: Request, exc: api.NotFound):  # noqa: ANN202
        return api_error(request, 404, exc.message) or error_page(request, 404, "Not found", exc.message)

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, exc: InputError):  # noqa: ANN202
        return (api_error(request, 422, exc.message, field=exc.field, hint=exc.hint)
                or error_page(request, 422, "That did not work", str(exc)))

    @app.exception_handler(Throttled)
    async def _throttled(request: Request, exc: Throttled):  # noqa: ANN202
        retry = {"Retry-After": str(exc.retry_after_s)}
        return api_error(request, 429, str(exc), headers=retry) or error_page(request, 429, "Too many attempts", str(exc), headers=retry)

    @app.exception_handler(api.JobConflict)
    @app.exception_handler(api.ProjectBusy)
    async def _busy(request: Request, exc: StoryreelError):  # noqa: ANN202
        return api_error(request, 409, str(exc)) or error_page(request, 409, "Busy", str(exc))

    @app.exception_handler(HTTPException)  # Starlette's: unmatched routes and 405 too, not only FastAPI's
    async def _http(request: Request, exc: HTTPException):  # noqa: ANN202
        if exc.status_code == 404 and exc.detail == "Not Found":
            detail = f"there is no page at {request.url.path[:200]}"
        elif exc.status_code == 413:
            detail = TooLargeInWords.MESSAGE
        else:
            detail = str(exc.detail)
        return (api_error(request, exc.status_code, detail, headers=exc.headers)
                or error_page(request, exc.status_code, ERROR_TITLES.get(exc.status_code, "Error"), detail, headers=exc.headers))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):  # noqa: ANN202
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        field = ".".join(str(part) for part in first["loc"][1:]) or "request"
        message = f"{field}: {first['msg']}"  # never the value sent (a password, a whole script)
        return (api_error(request, 422, message, field=field, errors=errors)
                or error_page(request, 422, "That did not work", message))

    # the body limit as user middleware, not FastAPI's app-level one (which answers outside every middleware): a
    # route's own max_body_size raises the limit for that route; a refusal gets words and the security headers
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=csrf.SMALL_BODY)
    app.add_middleware(TooLargeInWords)
    app.add_middleware(HeadAsGet)
    if settings.trusted_proxies:  # the client's address from X-Forwarded-For only when a trusted proxy sent it
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(SecurityHeaders)  # outermost: CSRF failures get the headers too
    return app
