"""``image_scores`` rows: what each scorer said about each candidate image (best-of-N, issue 13).

The table doubles as the scorers' cache: :meth:`ScoreStore.cached` finds an earlier verdict on the same
bytes (``sha256``) by the same scorer (``provider@code_version``) under the same rubric (hash of the
scorer's identity), in any project, so re-running selection never scores an image twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storyreel.store.models import ImageScore


class ScoreStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def cached(self, sha256: str, scorer: str, rubric_hash: str) -> tuple[dict, float] | None:
        """(sub-scores, total) of an earlier verdict on these bytes by this scorer and rubric, or None."""
        with self.sessions() as s:
            row = s.scalars(select(ImageScore).where(ImageScore.sha256 == sha256, ImageScore.scorer == scorer,
                                                     ImageScore.rubric_hash == rubric_hash).limit(1)).first()
            return (dict(row.scores), row.total) if row is not None else None

    def record(self, project_id: str, shot_id: str, candidate: int, sha256: str, scorer: str, rubric_hash: str,
               scores: dict, total: float) -> None:
        """Store a verdict for a project's candidate (once: a repeated verdict is not stored twice)."""
        with self.sessions() as s:
            exists = s.scalar(select(ImageScore.id).where(
                ImageScore.project_id == project_id, ImageScore.shot_id == shot_id, ImageScore.candidate == candidate,
                ImageScore.sha256 == sha256, ImageScore.scorer == scorer, ImageScore.rubric_hash == rubric_hash))
        if exists is not None:
            return
        try:
            with self.sessions.begin() as s:
                s.add(ImageScore(project_id=project_id, shot_id=shot_id, candidate=candidate, sha256=sha256, scorer=scorer,
                                 rubric_hash=rubric_hash, scores=scores, total=total))
        except IntegrityError:  # a concurrent run recorded the same verdict first
            pass

    def for_project(self, project_id: str) -> list[ImageScore]:
        with self.sessions() as s:
            return list(s.scalars(select(ImageScore).where(ImageScore.project_id == project_id).order_by(ImageScore.id)).all())
