"""``list``: the projects of a workspace."""

from __future__ import annotations

from storyreel.api.project import open_store, settings_for
from storyreel.api.requests import ListRequest


def list_projects(request: ListRequest | None = None, **fields: object) -> list[dict]:
    """Projects in the workspace, newest first: id, title, input, status, video path, updated time."""
    request = request or ListRequest.build(**fields)
    store = open_store(settings_for(request.workspace))
    return [
        {
            "project_id": p.id, "title": p.title, "input": p.input_name, "kind": p.input_kind, "status": p.status,
            "video_path": p.video_path, "updated_at": p.updated_at.isoformat() if p.updated_at else None,
        }
        for p in store.projects()
    ]
