"""Accounts: register, log in and out, the profile and personal API tokens — as pages and as JSON
(``/api/auth/register``, ``/api/auth/token``, ``/api/me``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from storyreel.api.accounts import Throttled
from storyreel.core.errors import InputError
from storyreel.web.deps import SESSION_COOKIE, ApiUser, PageUser, Ws, optional_user, set_session
from storyreel.web.templating import client_address, render, safe_next

api = APIRouter(prefix="/api", tags=["accounts"])
pages = APIRouter(include_in_schema=False)


class Credentials(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


@api.post("/auth/register", status_code=201)
def register_json(body: Credentials, ws: Ws) -> dict:
    """Create an account (username 3–32 of letters, digits, ``._-``; password 8–256 characters)."""
    user = ws.accounts.register(body.username, body.password)
    return {"id": user.id, "username": user.username}


@api.post("/auth/token")
def token(body: Credentials, request: Request, ws: Ws) -> dict:
    """A personal API token for ``Authorization: Bearer``. Failed attempts are throttled (429 + Retry-After)."""
    user = ws.accounts.authenticate(body.username, body.password, client_address(request))
    return {"access_token": ws.accounts.issue(user.id, "token"), "token_type": "bearer"}


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
def login(request: Request, ws: Ws, username: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "",
          next: Annotated[str, Form()] = "/") -> Response:  # noqa: A002
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
def register(request: Request, ws: Ws, username: Annotated[str, Form(max_length=64)] = "",
             password: Annotated[str, Form(max_length=256)] = "") -> Response:
    try:
        user = ws.accounts.register(username, password)
    except InputError as exc:
        return _auth_page(request, register=True, status_code=422, username=username, error=f"{exc.field}: {exc.message}")
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


@pages.get("/me")
def me(request: Request, user: PageUser, ws: Ws) -> HTMLResponse:
    return render(request, "me.html", profile=ws.accounts.profile(user.id), token=None, nav="me")


@pages.post("/me/token")
def new_token(request: Request, user: PageUser, ws: Ws) -> HTMLResponse:
    return render(request, "me.html", profile=ws.accounts.profile(user.id), token=ws.accounts.issue(user.id, "token"), nav="me")
