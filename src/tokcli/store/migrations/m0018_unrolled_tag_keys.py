"""Tag keys too scattered to roll up: a report by one reads the usage rows.

A tag whose values are nearly unique per row (a request id, a trace id) made the tag rollups as
large as the usage table and the pair rollups several times larger: on the FOCUS import bench
(issue 17) a `request` tag among six wrote 22 rollup rows per usage row and took half of the
import. `report_unrolled_tag_keys` names such keys; the upkeep and the rebuilds leave them out
of the tag and pair rollups, and a report by one, or filtered by one, reads the usage rows, as a
report by three tag keys does. The upkeep adds a key when the sums it holds give it at least
store.rollups.UNROLL_FROM_ROWS rollup rows averaging under two usage rows each; this migration
adds the keys whose stored rollup rows are already so, and drops those rows.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script

# The thresholds as store.rollups held them when this migration was written (a migration does
# not change with later code).
_SCRIPT = """
        CREATE TABLE report_unrolled_tag_keys (
            key {text} PRIMARY KEY
        );
        INSERT INTO report_unrolled_tag_keys (key)
            SELECT key FROM report_tag_rollup GROUP BY key
            HAVING COUNT(*) >= 10000 AND SUM(usage_rows) < 2 * COUNT(*);
        DELETE FROM report_tag_pair_rollup
         WHERE key IN (SELECT key FROM report_unrolled_tag_keys)
            OR other_key IN (SELECT key FROM report_unrolled_tag_keys);
        DELETE FROM report_tag_rollup WHERE key IN (SELECT key FROM report_unrolled_tag_keys);
"""


def apply(conn: Connection) -> None:
    execute_script(conn, _SCRIPT.format(text="TEXT"))


# Text compares in byte order, as every text column of the store (m0016).
POSTGRESQL = _SCRIPT.format(text='TEXT COLLATE "C"')
