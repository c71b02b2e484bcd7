"""What every page route shares: the Jinja2 templates (autoescaped) with the page's common context, the error
page, the answer after a form post, local-only redirects, the client's address and bounded uploads."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from storyreel import __version__
from storyreel.api.changes import STAGE_WORDS
from storyreel.web import csrf

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["stage_words"] = STAGE_WORDS  # what a job is doing, in words (the job card, the jobs page)


def render(request: Request, name: str, status_code: int = 200, **context: object) -> HTMLResponse:
    """A template with the page's common context: user, CSRF token (its cookie set when new), version."""
    base = {"user": getattr(request.state, "user", None), "csrf": csrf.token(request), "version": __version__}
    page = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    csrf.set_cookie(request, page)
    return page


def error_page(request: Request, status: int, heading: str, message: str, headers: dict | None = None) -> HTMLResponse:
    """The HTML error page (a heading, the message, a way back) with ``status``."""
    page = render(request, "error.html", status_code=status, heading=heading, message=message)
    page.headers.update(headers or {})
    return page


ERROR_TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 413: "Too large",
                429: "Too many attempts"}


def api_error(request: Request, status: int, detail: str, headers: dict | None = None, **extra: object) -> JSONResponse | None:
    """An ``/api`` error as JSON (``detail``, and ``field``/``hint`` for bad input); None for a page."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)
    return None


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or urlsplit(target).netloc:
        return "/"
    return target


def back(request: Request, url: str) -> Response:
    """After a form post: a 303 to ``url`` (HTMX follows with ``HX-Redirect``)."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, 303)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_upload(file: UploadFile, limit: int) -> bytes:
    """The upload's bytes, refusing more than ``limit`` (413) without reading the rest."""
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is over the limit of {limit:,} bytes; split the text")
    return data
