"""CSRF protection: the signed double-submit cookie bound to the session (OWASP CSRF Prevention Cheat Sheet,
"Signed Double-Submit Cookie"), plus a check of ``Origin`` / ``Referer`` (the same sheet's "Verifying Origin With
Standard Headers").

- The ``csrftoken`` cookie holds a random value (HttpOnly, SameSite=Lax); the token a page embeds — in every form
  as ``csrftoken`` and for HTMX in ``hx-headers`` as ``x-csrftoken`` — is ``HMAC(secret, random | session)``, where
  *session* is the hash of the session cookie (empty before sign-in). A token made before sign-in, or for another
  session, does not verify after it.
- Every state-changing request (POST, PUT, PATCH, DELETE) that carries cookies must send a token that verifies,
  in the header or the form field (urlencoded or multipart: the form is parsed once, within the route's body
  limits). Requests authenticated by ``Authorization: Bearer`` and cookie-less API requests
  are exempt: a browser cannot be made to send them cross-site. Sign-in, registration and sign-out always need
  a token (login CSRF: a cross-site form would arrive without cookies).
- An ``Origin`` (else ``Referer``) naming another origin is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from storyreel.web.deps import SESSION_COOKIE

COOKIE = "csrftoken"
FIELD = "csrftoken"
HEADER = "x-csrftoken"
ALWAYS = frozenset({"/login", "/register", "/logout"})
"""Forms checked even without cookies (login CSRF)."""
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _random(request: Request) -> str:
    """The request's cookie value, or a new one (set on the response by :func:`set_cookie`)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) < 32 or len(value) > 64:
        value = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_csrf = value
    return value


def _binding(request: Request) -> str:
    session = request.cookies.get(SESSION_COOKIE, "")
    return hashlib.sha256(session.encode()).hexdigest() if session else ""


def _sign(secret: str, random: str, binding: str) -> str:
    return hmac.new(secret.encode(), f"{random}|{binding}".encode(), hashlib.sha256).hexdigest()


def token(request: Request) -> str:
    """The token for this request's pages: its cookie's random value signed with the session it belongs to."""
    return _sign(request.app.state.signing_key, _random(request), _binding(request))


def set_cookie(request: Request, response) -> None:  # noqa: ANN001
    """Set the ``csrftoken`` cookie when this request made a new random value."""
    value = getattr(request.state, "new_csrf", None)
    if value:
        response.set_cookie(COOKIE, value, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https" or request.app.state.settings.cookie_secure)


def _same_origin(request: Request) -> bool | None:
    """True/False when ``Origin`` (else ``Referer``) says where the request comes from; None when neither does."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False if source == "null" else None
    theirs = urlsplit(source)
    ours = request.base_url
    return (theirs.scheme, theirs.hostname, theirs.port or _default_port(theirs.scheme)) == (
        ours.scheme, ours.hostname, ours.port or _default_port(ours.scheme))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


SMALL_BODY = 64 * 1024
"""The body limit of every route that takes no input text or file, in bytes (a shot's narration and image
prompt fit many times over)."""
UPLOAD_BODY = 16 * 1024 * 1024
"""The body limit of the routes that take a person's text or file — far over ``STORYREEL_MAX_UPLOAD_BYTES``, whose
own check then names the field; JSON may escape every character of the text."""
FORM_LIMITS = {"max_part_size": UPLOAD_BODY, "max_files": 1, "max_fields": 32}
"""Form parsing limits of those routes (Starlette's default part size, 1 MB, refused a long pasted script)."""
MAX_FORM_PART = SMALL_BODY


async def protect(request: Request) -> None:
    """The dependency every route runs: refuse (413) a body whose ``Content-Length`` is over the route's limit —
    before the route runs, also when it never reads its body (the body limiter would only replace its answer,
    after the change was made) — and (403) a state-changing request from another origin, or one with
    cookies — or to a sign-in form — whose token does not verify for this session."""
    limit, length = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY), request.headers.get("content-length", "")
    if limit is not None and length.isdigit() and int(length) > limit:
        raise HTTPException(413, "Content Too Large")
    if request.method not in UNSAFE:
        return
    if _same_origin(request) is False:
        raise HTTPException(403, "cross-site request refused: reload the page and submit again")
    if request.headers.get("authorization", "")[:7].lower() == "bearer ":
        return
    if not request.cookies and request.url.path not in ALWAYS:
        return
    sent = request.headers.get(HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form(max_part_size=MAX_FORM_PART)  # parsed once: the route reads the same form
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else ""
    random = request.cookies.get(COOKIE, "")
    expected = _sign(request.app.state.signing_key, random, _binding(request)) if random else ""
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page and submit again")
