"""The API reference (``/docs``, the footer's "API" link): a page of this site, made from the app's own OpenAPI
description — every JSON route by resource, its parameters, body fields and answers — readable without
JavaScript, under the site's CSP and held to the same accessibility audit as every other page (Swagger UI
needed a CDN, and its own markup fails that audit). Tools read ``/openapi.json``."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from storyreel.web.deps import Ws, optional_user
from storyreel.web.templating import render

METHODS = ("get", "post", "put", "patch", "delete")

pages = APIRouter(include_in_schema=False)


def _prose(text: str | None) -> Markup:
    """A docstring as HTML: escaped, ````code```` as ``<code>``, paragraphs kept."""
    html = str(escape(text or ""))
    html = re.sub(r"``(.+?)``|`([^`]+)`", lambda m: f"<code>{m.group(1) or m.group(2)}</code>", html)  # RST and Markdown
    return Markup("</p><p>".join(part.replace("\n", " ") for part in html.split("\n\n")))


def _type(schema: dict, components: dict) -> str:
    """A schema in words: ``string, at most 200``, ``integer 1–8``, ``NewProject``, ``list of string``;
    ``or null`` dropped (an optional field says so in its own column)."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "anyOf" in schema:
        kinds = [_type(s, components) for s in schema["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds) or "null"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}), components)}"
    limits = []
    if "minimum" in schema and "maximum" in schema:
        limits.append(f"{schema['minimum']:g}–{schema['maximum']:g}")
    elif "minimum" in schema:
        limits.append(f"≥ {schema['minimum']:g}")
    elif "maximum" in schema:
        limits.append(f"≤ {schema['maximum']:g}")
    if "maxLength" in schema:
        limits.append(f"at most {schema['maxLength']} characters")
    return kind + (f" ({', '.join(limits)})" if limits else "")


def _fields(schema: dict, components: dict) -> list[dict]:
    """The top-level fields of a request body's schema (its ``$ref`` followed)."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[1], {})
    required = set(schema.get("required", []))
    return [{"name": name, "type": _type(prop, components), "required": name in required,
             "description": _prose(prop.get("description")), "default": prop.get("default")}
            for name, prop in schema.get("properties", {}).items()]


def reference(openapi: dict) -> list[dict]:
    """The OpenAPI description as the page shows it: ``[{"tag", "operations": [{"id", "method", "path",
    "summary", "description", "parameters", "body", "body_type", "responses"}]}]``, tags in first-seen order."""
    components = openapi.get("components", {}).get("schemas", {})
    tags: dict[str, list[dict]] = {}
    for path, item in openapi.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body, body_type = [], None
            content = (op.get("requestBody") or {}).get("content", {})
            if content:
                body_type, media = next(iter(content.items()))
                body = _fields(media.get("schema", {}), components)
            tags.setdefault((op.get("tags") or ["other"])[0], []).append({
                "id": op.get("operationId", f"{method}-{path}"), "method": method.upper(), "path": path,
                "summary": op.get("summary", ""), "description": _prose(op.get("description")),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "type": _type(p.get("schema", {}), components), "description": _prose(p.get("description"))}
                               for p in op.get("parameters", [])],
                "body": body, "body_type": body_type,
                "responses": [(code, r.get("description", "")) for code, r in op.get("responses", {}).items()]})
    return [{"tag": tag, "operations": ops} for tag, ops in tags.items()]


@pages.get("/docs")
async def docs(request: Request, ws: Ws) -> HTMLResponse:
    """The API reference, from ``app.openapi()`` (the header shows who is signed in, if anyone)."""
    await optional_user(request, ws)
    spec = request.app.openapi()
    info = {**spec.get("info", {}), "description": _prose(spec.get("info", {}).get("description"))}
    return render(request, "docs.html", info=info, groups=reference(spec), nav="docs")
