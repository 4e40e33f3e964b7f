"""Multi-part exports: the part set an import belongs to (`tokcli import --part-of KEY`).

Rows of imports that share a part set never replace each other: parts of one billing export
imported in separate runs add up instead of the last part deleting the others.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        """
        ALTER TABLE imports ADD COLUMN part_set TEXT;
        CREATE INDEX imports_part_set ON imports (part_set) WHERE part_set IS NOT NULL;
        """,
    )


POSTGRESQL = """
ALTER TABLE imports ADD COLUMN part_set TEXT;
CREATE INDEX imports_part_set ON imports (part_set) WHERE part_set IS NOT NULL;
"""
