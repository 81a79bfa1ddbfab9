"""assessments: assignments of sections and questions to colleagues (assignment), and the
version at which each field of an assessment last changed (assessment.changed_in), so that
saves on different parts of one draft do not refuse each other

Revision ID: 5a1c7e93b2d4
Revises: b252321afa8f
Create Date: 2026-12-06 03:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "5a1c7e93b2d4"
down_revision: str | None = "b252321afa8f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assessment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("assigned_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"], name=op.f("fk_assignment_assessment_id_assessment")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["user.id"], name=op.f("fk_assignment_assignee_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"], ["user.id"], name=op.f("fk_assignment_assigned_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint(
            "assessment_id", "kind", "target", name=op.f("uq_assignment_assessment_id")
        ),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignment_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignment_due_on"), ["due_on"], unique=False)
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_in", sa.JSON(), server_default="{}", nullable=False)
        )
    # Fields answered before: changed at the assessment's version now (a form read earlier
    # than this upgrade is judged as if every answered field had changed since).
    assessment = sa.table(
        "assessment",
        sa.column("id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("answers", sa.JSON()),
        sa.column("evidence", sa.JSON()),
        sa.column("section_status", sa.JSON()),
        sa.column("changed_in", sa.JSON()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            assessment.c.id,
            assessment.c.version,
            assessment.c.answers,
            assessment.c.evidence,
            assessment.c.section_status,
        )
    ).all()
    for row in rows:
        stamps = {str(k): row.version for k in row.answers or {}}
        stamps.update({f"evidence-{k}": row.version for k in row.evidence or {}})
        stamps.update({f"section-{k}": row.version for k in row.section_status or {}})
        if stamps:
            conn.execute(
                assessment.update().where(assessment.c.id == row.id).values(changed_in=stamps)
            )


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_column("changed_in")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_due_on"))
        batch_op.drop_index(batch_op.f("ix_assignment_assignee_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_assessment_id"))
    op.drop_table("assignment")
