"""Persistence: SQLAlchemy models, Alembic migrations, project folders and atomic writes."""
