"""The first schema: imports, usage records and their tags."""

from tokcli.store.migrations import execute_script


def apply(conn):
    execute_script(
        conn,
        """
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            path TEXT,
            sha256 TEXT,
            format TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            rows_read INTEGER NOT NULL DEFAULT 0,
            rows_inserted INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            record_key TEXT NOT NULL UNIQUE,
            import_id INTEGER REFERENCES imports(id),
            source TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            provider TEXT,
            model TEXT,
            model_raw TEXT,
            service_tier TEXT NOT NULL DEFAULT 'standard',
            requests INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            billed_cost TEXT,
            currency TEXT
        );
        CREATE TABLE usage_tags (
            usage_id INTEGER NOT NULL REFERENCES usage(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (usage_id, key)
        );
        """,
    )
