"""PostgreSQL compares the store's text in byte order, as SQLite does.

A database created with a language's collation (`en_US.UTF-8`, ICU `en-US`, the default of
many installers) orders `B`, `_x`, `a-b` as `_x`, `a-b`, `B`, where SQLite orders them by their
bytes: the same store then listed tag keys, exported tags and ranked ties in another order on
each backend, and `store copy` moved a store between two orders. Every text column becomes
`COLLATE "C"` (byte order, which is also the fastest to compare), whatever the database's
default; tests/test_store_backends.py checks that every text column, now and in later
migrations, is so.

SQLite: nothing to do; its BINARY collation is byte order already.
"""

from tokcli.store.connection import Connection


def apply(conn: Connection) -> None:
    """Nothing to change on SQLite."""


POSTGRESQL = """
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT c.table_name, c.column_name
        FROM information_schema.columns c
        JOIN information_schema.tables t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema()
          AND t.table_type = 'BASE TABLE'
          AND c.data_type = 'text'
          AND c.collation_name IS DISTINCT FROM 'C'
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ALTER COLUMN %I TYPE text COLLATE "C"', col.table_name, col.column_name
        );
    END LOOP;
END
$$;
"""
