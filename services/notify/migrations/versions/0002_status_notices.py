"""status notices: a delivery is unique per (kind, proposal, recipient, cause event)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Receipts keep cause_id '' (still one per proposal and recipient); each state change is its own cause.
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cause_id', sa.String(length=64), server_default='', nullable=False))
        batch_op.drop_constraint('uq_deliveries_once_per_recipient', type_='unique')
        batch_op.create_unique_constraint(
            'uq_deliveries_once_per_cause', ['kind', 'proposal_id', 'recipient_hash', 'cause_id'],
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE cause_id <> ''")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_deliveries_once_per_cause', type_='unique')
        batch_op.create_unique_constraint(
            'uq_deliveries_once_per_recipient', ['kind', 'proposal_id', 'recipient_hash'],
        )
        batch_op.drop_column('cause_id')
