"""screening: internal notes, revision requests (signed revise links), carry-overs between rounds

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('internal_notes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('proposal_id', sa.String(length=40), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('internal_notes', schema=None) as batch_op:
        batch_op.create_index('ix_internal_notes_proposal', ['proposal_id', 'at'], unique=False)

    op.create_table('revision_requests',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('proposal_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('revision_requests', schema=None) as batch_op:
        batch_op.create_index('ix_revision_requests_proposal', ['proposal_id', 'requested_at'], unique=False)

    op.create_table('round_carry_overs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('proposal_id', sa.String(length=40), nullable=False),
    sa.Column('from_round_id', sa.String(length=80), nullable=False),
    sa.Column('to_round_id', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_round_id'], ['rounds.id'], ),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], ),
    sa.ForeignKeyConstraint(['to_round_id'], ['rounds.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('round_carry_overs', schema=None) as batch_op:
        batch_op.create_index('ix_round_carry_overs_from', ['from_round_id'], unique=False)
        batch_op.create_index('ix_round_carry_overs_proposal', ['proposal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('round_carry_overs', schema=None) as batch_op:
        batch_op.drop_index('ix_round_carry_overs_proposal')
        batch_op.drop_index('ix_round_carry_overs_from')
    op.drop_table('round_carry_overs')
    with op.batch_alter_table('revision_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_revision_requests_proposal')
    op.drop_table('revision_requests')
    with op.batch_alter_table('internal_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_internal_notes_proposal')
    op.drop_table('internal_notes')
