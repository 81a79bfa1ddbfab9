"""reports: one cache key per rendering, the instance's signing key, and the review state of
each submission (earlier submissions of an assessment were returned)

The PDF cache is emptied (it is a cache: every PDF is rendered again, now signed).

Revision ID: 3f1a9c0d5e72
Revises: 5b2e9f0c7d14
Create Date: 2026-12-04 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "3f1a9c0d5e72"
down_revision: str | None = "5b2e9f0c7d14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _old_cache() -> None:
    op.create_table(
        "report_cache",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("template_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("review_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_cache")),
        sa.UniqueConstraint(
            "sha256",
            "language",
            "template_version",
            "review_state",
            name=op.f("uq_report_cache_sha256"),
        ),
    )


def upgrade() -> None:
    op.drop_table("report_cache")
    op.create_table(
        "report_cache",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cache_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("review_state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_cache")),
        sa.UniqueConstraint("cache_key", name=op.f("uq_report_cache_cache_key")),
    )
    op.create_index(op.f("ix_report_cache_sha256"), "report_cache", ["sha256"], unique=False)
    op.create_table(
        "instance_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_key")),
    )
    # Every submission but an assessment's latest was returned (a resubmission follows a return
    # only); an earlier migration gave them the assessment's status instead.
    op.execute(
        sa.text("UPDATE submission_digest SET status = 'returned' WHERE latest = :no").bindparams(
            no=False
        )
    )


def downgrade() -> None:
    op.drop_table("instance_key")
    op.drop_index(op.f("ix_report_cache_sha256"), table_name="report_cache")
    op.drop_table("report_cache")
    _old_cache()
