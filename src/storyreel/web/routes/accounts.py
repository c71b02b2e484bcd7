"""Accounts: register, log in and out, the profile and personal API tokens — as pages and as JSON
(``/api/auth/register``, ``/api/auth/token``, ``/api/me``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from storyreel.api.accounts import DEFAULT_TOKEN_DAYS, TOKEN_DAYS, Throttled
from storyreel.core.errors import InputError
from storyreel.web.deps import SESSION_COOKIE, ApiUser, PageUser, Ws, optional_user, set_session
from storyreel.web.templating import back, client_address, render, safe_next

api = APIRouter(prefix="/api", tags=["accounts"])
pages = APIRouter(include_in_schema=False)


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class Login(Credentials):
    name: str | None = Field(default=None, max_length=64, description="The token's name (default: the time it was made).")
    days: int | None = Field(default=None, description=f"Its lifetime in days: one of {', '.join(map(str, TOKEN_DAYS))} (default {DEFAULT_TOKEN_DAYS}).")


class NewToken(BaseModel):
    name: str = Field(max_length=64)
    days: int | None = Field(default=None, description=f"Lifetime in days: one of {', '.join(map(str, TOKEN_DAYS))}.")


@api.post("/auth/register", status_code=201)
def register_json(body: Credentials, ws: Ws) -> dict:
    """Create an account (username 3–32 of letters, digits, ``._-``; password 15–256 characters, not a guessable one)."""
    user = ws.accounts.register(body.username, body.password)
    return {"id": user.id, "username": user.username}


@api.post("/auth/token")
def token(body: Login, request: Request, ws: Ws) -> dict:
    """A personal API token for ``Authorization: Bearer``, named and expiring (``name``, ``days``). Wrong
    credentials answer 401; failed attempts are throttled per account and address and per address (429 +
    Retry-After)."""
    try:
        user = ws.accounts.authenticate(body.username, body.password, client_address(request))
    except InputError as exc:
        raise HTTPException(401, exc.message, headers={"WWW-Authenticate": "Bearer"}) from None
    name = body.name or f"signed in {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} {secrets.token_hex(2)}"
    return {"access_token": ws.accounts.issue(user.id, "token", name=name, days=body.days), "token_type": "bearer"}


@api.get("/auth/tokens")
def tokens_json(user: ApiUser, ws: Ws) -> dict:
    """Your API tokens: id, name, created, last used, expires (never the secret)."""
    return {"items": ws.accounts.tokens(user.id)}


@api.post("/auth/tokens", status_code=201)
def new_token_json(body: NewToken, user: ApiUser, ws: Ws) -> dict:
    """A new named token (shown once in ``access_token``)."""
    secret = ws.accounts.issue(user.id, "token", name=body.name, days=body.days)
    return {"access_token": secret, "token_type": "bearer", "token": ws.accounts.tokens(user.id)[0]}


@api.delete("/auth/tokens/{token_id}", status_code=204)
def revoke_json(token_id: int, user: ApiUser, ws: Ws) -> Response:
    """Revoke a token: it answers 401 at once, on every server process."""
    if not ws.accounts.revoke_token(user.id, token_id):
        raise HTTPException(404, f"no token {token_id}")
    return Response(status_code=204)


@api.get("/me")
def me_json(user: ApiUser, ws: Ws) -> dict:
    """Profile: videos made, total cost, member since, last login."""
    return ws.accounts.profile(user.id)


def _auth_page(request: Request, *, register: bool, status_code: int = 200, next_url: str = "/", username: str = "",
               error: str | None = None) -> HTMLResponse:
    return render(request, "auth.html", status_code=status_code, heading="Create account" if register else "Log in",
                  action="/register" if register else "/login", register=register, next_url=next_url, username=username, error=error)


@pages.get("/login")
async def login_page(request: Request, ws: Ws, next: str = "/") -> HTMLResponse:  # noqa: A002
    await optional_user(request, ws)
    return _auth_page(request, register=False, next_url=safe_next(next))


@pages.post("/login")
def login(request: Request, ws: Ws, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
    """Sign in from the form (the body is bounded; a password over 256 characters is simply wrong)."""
    username = username[:64]
    try:
        user = ws.accounts.authenticate(username, password, client_address(request))
    except Throttled as exc:
        page = _auth_page(request, register=False, status_code=429, next_url=safe_next(next), username=username, error=str(exc))
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except InputError as exc:
        return _auth_page(request, register=False, status_code=401, next_url=safe_next(next), username=username, error=exc.message)
    response = RedirectResponse(safe_next(next), 303)
    set_session(response, request, ws.accounts.issue(user.id, "session"))
    return response


@pages.get("/register")
async def register_page(request: Request, ws: Ws) -> HTMLResponse:
    await optional_user(request, ws)
    return _auth_page(request, register=True)


@pages.post("/register")
def register(request: Request, ws: Ws, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
    """Create an account from the form; a refusal shows the form again with the reason (never the password)."""
    try:
        user = ws.accounts.register(username, password)
    except InputError as exc:
        return _auth_page(request, register=True, status_code=422, username=username[:64], error=f"{exc.field}: {exc.message}")
    response = RedirectResponse("/", 303)
    set_session(response, request, ws.accounts.issue(user.id, "session"))
    return response


@pages.post("/logout")
def logout(request: Request, ws: Ws) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        ws.accounts.revoke(secret)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _me(request: Request, user, ws, *, status_code: int = 200, **context: object) -> HTMLResponse:  # noqa: ANN001
    page = render(request, "me.html", status_code=status_code, profile=ws.accounts.profile(user.id), tokens=ws.accounts.tokens(user.id),
                  token_days=TOKEN_DAYS, default_days=DEFAULT_TOKEN_DAYS, nav="me", **context)
    page.headers["Cache-Control"] = "no-store"  # a new token is on it
    return page


@pages.get("/me")
def me(request: Request, user: PageUser, ws: Ws) -> HTMLResponse:
    return _me(request, user, ws)


@pages.post("/me/tokens")
def new_token(request: Request, user: PageUser, ws: Ws, name: Annotated[str, Form()] = "",
              days: Annotated[str, Form()] = str(DEFAULT_TOKEN_DAYS)) -> HTMLResponse:
    """Create a named token and show it, once. Sent again (a reload of this answer), the same name is refused:
    no second token is made."""
    try:
        if not days.strip().isdigit():
            raise InputError(f"choose a lifetime of {', '.join(map(str, TOKEN_DAYS))} days", field="days")
        secret = ws.accounts.issue(user.id, "token", name=name, days=int(days))
    except InputError as exc:
        return _me(request, user, ws, status_code=422, error=exc.message, form_name=name[:64])
    return _me(request, user, ws, status_code=201, new_token={"name": " ".join(name.split()), "secret": secret})


@pages.post("/me/tokens/{token_id}/revoke")
def revoke(token_id: int, request: Request, user: PageUser, ws: Ws) -> Response:
    """Revoke one of your tokens (another user's, or none: 404, like a missing one)."""
    if not ws.accounts.revoke_token(user.id, token_id):
        raise HTTPException(404, f"you have no token {token_id}")
    return back(request, "/me")
