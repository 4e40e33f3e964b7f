"""The tag rollups keep every dimension of a cell: provider and source beside model and tier.

`report_tag_rollup` and `report_tag_pair_rollup` summed by (day, model, tier, currency) under
each tag value, so a report by a tag key and the provider or the source (`--by team,provider`)
had to read every usage row: 8.8 s for a month of a 10M-row store (issue 17). They now sum by
the base rollup's whole key, (day, provider, model, tier, source, currency); a provider and a
source come with a model, so the tables grow by little. Both are rebuilt: the days that carry
tags are marked dirty and the next report rebuilds them.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script

_MEASURES = """
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
            unbilled_list_rows {int} NOT NULL,"""

_TABLES = """
        DROP TABLE report_tag_rollup;
        CREATE TABLE report_tag_rollup (
            key {text} NOT NULL,
            day {text} NOT NULL,
            value {text} NOT NULL,
            provider {text} NOT NULL,
            model {text} NOT NULL,
            tier {text} NOT NULL,
            source {text} NOT NULL,
            currency {text} NOT NULL,
            {measures}
            PRIMARY KEY (key, day, value, provider, model, tier, source, currency)
        ) {without_rowid};
        DROP TABLE report_tag_pair_rollup;
        CREATE TABLE report_tag_pair_rollup (
            key {text} NOT NULL,
            other_key {text} NOT NULL,
            day {text} NOT NULL,
            value {text} NOT NULL,
            other_value {text} NOT NULL,
            provider {text} NOT NULL,
            model {text} NOT NULL,
            tier {text} NOT NULL,
            source {text} NOT NULL,
            currency {text} NOT NULL,
            {measures}
            PRIMARY KEY (key, other_key, day, value, other_value, provider, model, tier, source,
                         currency)
        ) {without_rowid};
        INSERT {ignore} INTO report_dirty_days (day)
            SELECT DISTINCT substr(period_start, 1, 10) FROM usage
             WHERE id IN (SELECT usage_id FROM usage_tags)
            {conflict};
"""


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        _TABLES.format(
            text="TEXT",
            measures=_MEASURES.format(int="INTEGER", money="TEXT"),
            without_rowid="WITHOUT ROWID",
            ignore="OR IGNORE",
            conflict="",
        ),
    )


# Text compares in byte order, as every text column of the store (m0016).
POSTGRESQL = _TABLES.format(
    text='TEXT COLLATE "C"',
    measures=_MEASURES.format(int="BIGINT", money="NUMERIC"),
    without_rowid="",
    ignore="",
    conflict="ON CONFLICT DO NOTHING",
)
