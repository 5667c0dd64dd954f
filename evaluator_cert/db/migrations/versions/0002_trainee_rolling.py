"""trainee rolling agreement summary

Revision ID: 0002_trainee_rolling
Revises: 0001
Create Date: 2026-11-29 15:20:00.000000

Trainees answering before this revision have no row; the cohort view computes their figures
from stored grades until their next answer (or ``cohort.backfill_rolling``) writes one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import evaluator_cert.db.models

revision = "0002_trainee_rolling"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trainee_rolling",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("rolling_kappa", sa.Float(), nullable=True),
        sa.Column("kappa_low", sa.Float(), nullable=True),
        sa.Column("kappa_high", sa.Float(), nullable=True),
        sa.Column("previous_kappa", sa.Float(), nullable=True),
        sa.Column(
            "last_activity", evaluator_cert.db.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "updated_at", evaluator_cert.db.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_trainee_rolling_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_trainee_rolling")),
    )
    with op.batch_alter_table("trainee_rolling", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trainee_rolling_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("trainee_rolling", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainee_rolling_updated_at"))
    op.drop_table("trainee_rolling")
