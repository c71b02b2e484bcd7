"""projects and runs (provenance)

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("input_kind", sa.String(16), nullable=False),
        sa.Column("input_name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("video_path", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("invocation", sa.String(36), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(160), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(128), nullable=False),
        sa.Column("template_hash", sa.String(80), nullable=True),
        sa.Column("params_hash", sa.String(80), nullable=False),
        sa.Column("input_versions", sa.JSON, nullable=False),
        sa.Column("output_version", sa.String(80), nullable=True),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_runs_node", "runs", ["project_id", "stage", "unit", "id"])
    op.create_index("ix_runs_invocation", "runs", ["invocation"])


def downgrade() -> None:
    op.drop_index("ix_runs_invocation", "runs")
    op.drop_index("ix_runs_node", "runs")
    op.drop_table("runs")
    op.drop_table("projects")
