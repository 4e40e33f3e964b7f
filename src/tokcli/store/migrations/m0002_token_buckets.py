"""Disjoint token buckets and list cost: split cache writes by TTL, add reasoning tokens,
the charge kind (usage, credit, refund, ...), the registry's list cost, and query indexes."""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        """
        ALTER TABLE usage RENAME COLUMN cache_write_tokens TO cache_write_5m_tokens;
        ALTER TABLE usage ADD COLUMN cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage ADD COLUMN charge_kind TEXT NOT NULL DEFAULT 'usage';
        ALTER TABLE usage ADD COLUMN list_cost TEXT;
        ALTER TABLE imports ADD COLUMN source TEXT;
        ALTER TABLE imports ADD COLUMN details TEXT;
        CREATE INDEX usage_period ON usage(period_start);
        CREATE INDEX usage_model ON usage(model, period_start);
        CREATE INDEX usage_import ON usage(import_id);
        CREATE INDEX usage_tags_lookup ON usage_tags(key, value, usage_id);
        """,
    )


POSTGRESQL = """
ALTER TABLE usage RENAME COLUMN cache_write_tokens TO cache_write_5m_tokens;
ALTER TABLE usage ADD COLUMN cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage ADD COLUMN charge_kind TEXT NOT NULL DEFAULT 'usage';
ALTER TABLE usage ADD COLUMN list_cost NUMERIC;
ALTER TABLE imports ADD COLUMN source TEXT;
ALTER TABLE imports ADD COLUMN details TEXT;
CREATE INDEX usage_period ON usage(period_start);
CREATE INDEX usage_model ON usage(model, period_start);
CREATE INDEX usage_import ON usage(import_id);
CREATE INDEX usage_tags_lookup ON usage_tags(key, value, usage_id);
"""
