"""Inserted usage marks its days once per batch, not once per row through a trigger.

m0005's insert triggers ran one extra statement per usage row and, worse, one sub-select per tag
row: about a third of a bulk import's time. `store.usage.insert_usage`, the one path that
inserts usage and tags, now records the days of each batch it writes in `report_dirty_days`
itself. The UPDATE and DELETE triggers stay: those paths are rare (replacement, hand edits) and
keeping them means any other writer's change still reaches the report.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        """
        DROP TRIGGER IF EXISTS report_usage_inserted;
        DROP TRIGGER IF EXISTS report_tags_inserted;
        """,
    )


POSTGRESQL = """
DROP TRIGGER IF EXISTS report_usage_inserted ON usage;
DROP TRIGGER IF EXISTS report_tags_inserted ON usage_tags;
"""
