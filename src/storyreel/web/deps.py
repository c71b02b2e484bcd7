"""The dependencies every route takes (FastAPI ``Depends``): the request's workspace session, who is asking —
a server-side session (HttpOnly, SameSite=Lax cookie; Secure behind HTTPS) for the pages, or a personal API
token (``Authorization: Bearer``) for ``/api``; either works on ``/api`` — and the asker's project."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from storyreel import api
from storyreel.api import library
from storyreel.api.accounts import SESSION_TTL, User

SESSION_COOKIE = "storyreel_session"


class LoginRequired(Exception):
    """A page asked for without a session: the app redirects to ``/login?next=…``."""


def workspace(request: Request) -> api.Workspace:
    """The workspace session of this request (settings cached on their sources, the database opened once per
    process)."""
    return api.Workspace.open(request.app.state.root)


Ws = Annotated[api.Workspace, Depends(workspace)]


def _lookup(request: Request, ws: api.Workspace) -> User | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return ws.accounts.user_for(header[7:].strip(), "token")
    return ws.accounts.user_for(request.cookies.get(SESSION_COOKIE), "session")


async def optional_user(request: Request, ws: Ws) -> User | None:
    """The signed-in user or None (cached on the request only: a logout or a revoked token counts at once on
    every process). Looked up on the event loop: one indexed database read, a fraction of a millisecond,
    cheaper than a thread hop."""
    if not hasattr(request.state, "user"):
        request.state.user = _lookup(request, ws)
    return request.state.user


async def api_user(request: Request, ws: Ws) -> User:
    """The user of an ``/api`` call; 401 with ``WWW-Authenticate: Bearer`` without valid credentials."""
    user = await optional_user(request, ws)
    if user is None:
        raise HTTPException(401, "sign in: a session cookie or Authorization: Bearer <token>", headers={"WWW-Authenticate": "Bearer"})
    return user


async def page_user(request: Request, ws: Ws) -> User:
    """The user of a page; others are sent to the login page."""
    user = await optional_user(request, ws)
    if user is None:
        raise LoginRequired()
    return user


ApiUser = Annotated[User, Depends(api_user)]
PageUser = Annotated[User, Depends(page_user)]


def api_project(project_id: str, user: ApiUser, ws: Ws) -> api.Project:
    """The asker's project ``project_id`` (404 for another user's, exactly like a missing one)."""
    return library.owned(ws, project_id, user.id)


def page_project(project_id: str, user: PageUser, ws: Ws) -> api.Project:
    """:func:`api_project` for a page (no session: to the login page)."""
    return library.owned(ws, project_id, user.id)


ApiProject = Annotated[api.Project, Depends(api_project)]
PageProject = Annotated[api.Project, Depends(page_project)]


def set_session(response, request: Request, secret: str) -> None:  # noqa: ANN001
    """Set the session cookie: HttpOnly, SameSite=Lax, Secure when the request came over HTTPS."""
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(SESSION_TTL.total_seconds()), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https" or request.app.state.settings.cookie_secure, path="/")
