"""A rollup by pairs of tag keys, so a report grouped by two tag keys reads rollups, not rows.

`report_tag_pair_rollup` holds one row per (key, other_key, day, value, other_value, model, tier,
currency) with key < other_key, summing the usage rows that carry both tags. What a pair leaves
out (rows with one of the two keys, or neither) the report works out exactly from the one-key
tag rollup and the base rollup, cell by cell (tokcli.reporting.query). Days with rows that carry
two or more tags are marked dirty, so the next report builds their pairs.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script

_COLUMNS = """
            key TEXT NOT NULL,
            other_key TEXT NOT NULL,
            day TEXT NOT NULL,
            value TEXT NOT NULL,
            other_value TEXT NOT NULL,
            model TEXT NOT NULL,
            tier TEXT NOT NULL,
            currency TEXT NOT NULL,
            usage_rows {int} NOT NULL,
            billed_rows {int} NOT NULL,
            list_rows {int} NOT NULL,
            billed_cost {money} NOT NULL,
            list_cost {money} NOT NULL,
            requests {int} NOT NULL,
            input_tokens {int} NOT NULL,
            cache_read_tokens {int} NOT NULL,
            cache_write_tokens {int} NOT NULL,
            output_tokens {int} NOT NULL,
            reasoning_tokens {int} NOT NULL,
            unbilled_list_cost {money} NOT NULL,
            unbilled_list_rows {int} NOT NULL,
            PRIMARY KEY (key, other_key, day, value, other_value, model, tier, currency)
"""

_MARK_DAYS = """
        INSERT {ignore} INTO report_dirty_days (day)
            SELECT DISTINCT substr(period_start, 1, 10) FROM usage
             WHERE id IN (SELECT usage_id FROM usage_tags GROUP BY usage_id HAVING COUNT(*) > 1)
            {conflict};
"""


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        f"""
        CREATE TABLE report_tag_pair_rollup (
            {_COLUMNS.format(int="INTEGER", money="TEXT")}
        ) WITHOUT ROWID;
        {_MARK_DAYS.format(ignore="OR IGNORE", conflict="")}
        """,
    )


POSTGRESQL = f"""
CREATE TABLE report_tag_pair_rollup (
    {_COLUMNS.format(int="BIGINT", money="NUMERIC")}
);
{_MARK_DAYS.format(ignore="", conflict="ON CONFLICT DO NOTHING")}
"""
