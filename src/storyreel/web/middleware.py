"""The dashboard's pure ASGI middlewares (streams such as SSE pass through untouched): security headers on
every answer, ``HEAD`` answered as ``GET``, and the body limiter's 413 said in words. :class:`HttpOnly` is their
base: non-HTTP scopes (the lifespan) go straight through."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import MutableHeaders

from storyreel.web import csrf
from storyreel.web.templating import api_error, error_page

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "same-origin",
                    "x-frame-options": "DENY", "cross-origin-opener-policy": "same-origin"}


class HttpOnly:
    """Base of a pure ASGI middleware that acts on HTTP requests only (:meth:`http`)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope, receive, send) -> None:  # noqa: ANN001
        raise NotImplementedError


class SecurityHeaders(HttpOnly):
    """Pure ASGI middleware (streams such as SSE pass through untouched) adding :data:`SECURITY_HEADERS`."""

    async def http(self, scope, receive, send) -> None:  # noqa: ANN001

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet(HttpOnly):
    """Pure ASGI middleware answering ``HEAD`` as the same ``GET`` without its body (RFC 9110 §9.3.2: the
    headers a GET would send, Content-Length included) — FastAPI routes answer only the methods they declare."""

    async def http(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.body":
                if not message.get("more_body"):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class TooLargeInWords(HttpOnly):
    """Pure ASGI middleware: the body limit's plain-text ``413 Content Too Large`` (Starlette's
    ``RequestBodyLimitMiddleware`` answers it itself, past every exception handler) said like every other
    error — JSON ``{"detail": …}`` under ``/api``, the error page elsewhere."""

    MESSAGE = (f"the request is too large: a form takes at most {csrf.SMALL_BODY // 1024} KB, a script or file "
               f"{csrf.UPLOAD_BODY // (1024 * 1024)} MB")

    async def http(self, scope, receive, send) -> None:  # noqa: ANN001
        held: dict | None = None

        async def rewrite(message) -> None:  # noqa: ANN001
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] == 413:
                held = message
                return
            if held is not None and message["type"] == "http.response.body":
                if dict(held.get("headers", [])).get(b"content-type", b"").startswith(b"text/plain"):
                    request = Request(scope)
                    response = api_error(request, 413, self.MESSAGE) or error_page(request, 413, "Too large", self.MESSAGE)
                    await response(scope, receive, send)
                else:
                    await send(held)
                    await send(message)
                held = None
                return
            await send(message)

        await self.app(scope, receive, rewrite)
