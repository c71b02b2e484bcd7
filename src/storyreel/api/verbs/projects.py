"""``list``: the projects of a workspace."""

from __future__ import annotations

from storyreel.api.requests import ListRequest
from storyreel.api.session import Workspace


def list_projects(request: ListRequest | None = None, **fields: object) -> list[dict]:
    """Projects in the workspace, newest first: id, title, input, status, video path, updated time."""
    request = request or ListRequest.build(**fields)
    return [
        {
            "project_id": p.id, "title": p.title, "input": p.input_name, "kind": p.input_kind, "status": p.status,
            "video_path": p.video_path, "updated_at": p.updated_at.isoformat() if p.updated_at else None,
        }
        for p in Workspace.open(request.workspace).store.projects()
    ]
