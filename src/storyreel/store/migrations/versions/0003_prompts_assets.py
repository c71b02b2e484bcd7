"""prompt_versions and media_assets (seed 001 §7)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "prompt_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_prompt_versions_hash", "prompt_versions", ["name", "content_hash"], unique=True)
    op.create_table(
        "media_assets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("asset_type", sa.String(8), nullable=False),
        sa.Column("chapter_id", sa.String(64), nullable=True),
        sa.Column("shot_id", sa.String(64), nullable=True),
        sa.Column("file_path", sa.Text, nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=True),
        sa.Column("sha256", sa.String(80), nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("prompt_version_id", sa.Integer, sa.ForeignKey("prompt_versions.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("idx_media_assets_project_type_chapter", "media_assets", ["project_id", "asset_type", "chapter_id"])
    op.create_index("idx_media_assets_type", "media_assets", ["asset_type"])


def downgrade() -> None:
    op.drop_index("idx_media_assets_type", "media_assets")
    op.drop_index("idx_media_assets_project_type_chapter", "media_assets")
    op.drop_table("media_assets")
    op.drop_index("ux_prompt_versions_hash", "prompt_versions")
    op.drop_table("prompt_versions")
