"""``prompt_versions`` and ``media_assets`` rows (seed 001 §7)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storyreel.store.models import MediaAsset, PromptVersion


class AssetStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def prompt_version(self, name: str, content_hash: str, content: str) -> PromptVersion:
        """The row for this template content, created with the next version number if new."""
        for _ in range(3):
            try:
                with self.sessions.begin() as s:
                    row = s.scalar(select(PromptVersion).where(PromptVersion.name == name, PromptVersion.content_hash == content_hash))
                    if row is None:
                        version = (s.scalar(select(func.max(PromptVersion.version)).where(PromptVersion.name == name)) or 0) + 1
                        row = PromptVersion(name=name, version=version, content_hash=content_hash, content=content)
                        s.add(row)
                        s.flush()
                    return row
            except IntegrityError:  # a concurrent writer stored the same content first: read it
                continue
        raise RuntimeError(f"could not record prompt version {name} {content_hash}")

    def add(self, *assets: MediaAsset) -> None:
        """Insert ``assets`` in one transaction (a best-of-N batch's candidates: one commit, not N)."""
        with self.sessions.begin() as s:
            s.add_all(assets)

    def assets(self, project_id: str, asset_type: str | None = None) -> list[MediaAsset]:
        with self.sessions() as s:
            q = select(MediaAsset).where(MediaAsset.project_id == project_id)
            if asset_type:
                q = q.where(MediaAsset.asset_type == asset_type)
            return list(s.scalars(q.order_by(MediaAsset.id)).all())
