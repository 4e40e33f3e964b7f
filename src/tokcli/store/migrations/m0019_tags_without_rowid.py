"""SQLite keeps a usage row's tags in one B-tree, ordered by (usage_id, key).

`usage_tags` was a rowid table whose primary key, (usage_id, key), was a second B-tree beside
the table itself, and `usage_tags_lookup` a third: each tag an import wrote went into three
B-trees. A FOCUS export carries several tags per row, so on the import bench (issue 17) the tag
rows took most of SQLite's time. As a WITHOUT ROWID table the primary key is the table: two
B-trees per tag instead of three. For 200,000 FOCUS rows with six tags each, SQLite writes
the usage and tag rows in 21% less time (14.2 s to 11.1 s) into a 21% smaller file (158 to
125 MB); the whole import is 5% faster (medians of seven alternating runs). A row's tags, what
a rollup rebuild reads, are found in one look-up instead of two. The rows are copied as they
are; the lookup index and the two triggers that mark a day dirty are made again as they were.
The copy runs once: 7.5 s for the 1.65M tag rows of a 1M-row store on a 2-core VM. The old
table's pages stay in the file, free, for later writes to reuse (`VACUUM` gives them back).

PostgreSQL: nothing to change (its tables have no rowid; the primary key is an index).
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script

# The triggers as m0013 left them (a migration does not change with later code).
_SCRIPT = """
        CREATE TABLE usage_tags_by_row (
            usage_id INTEGER NOT NULL REFERENCES usage(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (usage_id, key)
        ) WITHOUT ROWID;
        INSERT INTO usage_tags_by_row (usage_id, key, value)
            SELECT usage_id, key, value FROM usage_tags ORDER BY usage_id, key;
        DROP TABLE usage_tags;
        ALTER TABLE usage_tags_by_row RENAME TO usage_tags;
        CREATE INDEX usage_tags_lookup ON usage_tags(key, value, usage_id);
        CREATE TRIGGER report_tags_deleted AFTER DELETE ON usage_tags BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day)
                SELECT substr(period_start, 1, 10) FROM usage WHERE id = OLD.usage_id;
        END;
        CREATE TRIGGER report_tags_updated AFTER UPDATE ON usage_tags BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day)
                SELECT substr(period_start, 1, 10) FROM usage WHERE id = OLD.usage_id;
            INSERT OR IGNORE INTO report_dirty_days (day)
                SELECT substr(period_start, 1, 10) FROM usage WHERE id = NEW.usage_id;
        END;
"""


def apply(conn: Connection) -> None:
    execute_script(conn, _SCRIPT)


POSTGRESQL = "SELECT 1;  -- nothing to change: see the module's docstring"
