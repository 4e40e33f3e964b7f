"""Report rollups for the default cost basis, and a register of unusable stored values.

- `unbilled_list_rows` / `unbilled_list_cost`: the list cost of the rows that carry no billed
  cost, so a report can value usage-only sources (Claude Code, OpenAI usage API, OpenTelemetry)
  at list price without reading every usage row (docs/concepts/cost-basis.md).
- `report_bad_values`: stored values an older tokcli wrote that no sum can use (a cost of
  "1e400" or "NaN"), found while rebuilding a day, so every report can name those rows.

Rollups are derived data: every day is marked dirty and rebuilt on the next report.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        """
        ALTER TABLE report_rollup ADD COLUMN unbilled_list_cost TEXT NOT NULL DEFAULT '0';
        ALTER TABLE report_rollup ADD COLUMN unbilled_list_rows INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE report_tag_rollup ADD COLUMN unbilled_list_cost TEXT NOT NULL DEFAULT '0';
        ALTER TABLE report_tag_rollup ADD COLUMN unbilled_list_rows INTEGER NOT NULL DEFAULT 0;

        CREATE TABLE report_bad_values (
            day TEXT NOT NULL,
            usage_id INTEGER NOT NULL,
            column_name TEXT NOT NULL,
            value TEXT,
            PRIMARY KEY (day, usage_id, column_name)
        ) WITHOUT ROWID;

        INSERT OR IGNORE INTO report_dirty_days (day)
            SELECT DISTINCT substr(period_start, 1, 10) FROM usage;
        """,
    )


POSTGRESQL = """
ALTER TABLE report_rollup ADD COLUMN unbilled_list_cost NUMERIC NOT NULL DEFAULT 0;
ALTER TABLE report_rollup ADD COLUMN unbilled_list_rows BIGINT NOT NULL DEFAULT 0;
ALTER TABLE report_tag_rollup ADD COLUMN unbilled_list_cost NUMERIC NOT NULL DEFAULT 0;
ALTER TABLE report_tag_rollup ADD COLUMN unbilled_list_rows BIGINT NOT NULL DEFAULT 0;

CREATE TABLE report_bad_values (
    day TEXT NOT NULL,
    usage_id BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (day, usage_id, column_name)
);

INSERT INTO report_dirty_days (day)
    SELECT DISTINCT substr(period_start, 1, 10) FROM usage ON CONFLICT DO NOTHING;
"""
