"""image scores: one row per candidate image and scorer (best-of-N)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "image_scores",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("shot_id", sa.String(64), nullable=False),
        sa.Column("candidate", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(80), nullable=False),
        sa.Column("scorer", sa.String(128), nullable=False),
        sa.Column("rubric_hash", sa.String(80), nullable=False),
        sa.Column("scores", sa.JSON, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_image_scores_lookup", "image_scores", ["sha256", "scorer", "rubric_hash"])
    op.create_index("ux_image_scores_candidate", "image_scores",
                    ["project_id", "shot_id", "candidate", "sha256", "scorer", "rubric_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_image_scores_candidate", "image_scores")
    op.drop_index("ix_image_scores_lookup", "image_scores")
    op.drop_table("image_scores")
