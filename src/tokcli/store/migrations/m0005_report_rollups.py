"""Report rollups: exact per-day sums that `tokcli report` answers from, and dirty-day tracking.

Importers and batch write `usage`/`usage_tags` through store/usage.py and know nothing of these
tables, so triggers record every day whose rows change in `report_dirty_days`; the report
rebuilds only those days before it answers (tokcli.reporting.rollups.refresh).

Money columns are exact decimal strings (sums computed with Decimal); '' stands for a missing
dimension value so the primary keys can cover every row (NULLs are never equal in SQLite keys).
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script

_MEASURES = """
            usage_rows INTEGER NOT NULL,
            billed_rows INTEGER NOT NULL,
            list_rows INTEGER NOT NULL,
            billed_cost TEXT NOT NULL,
            list_cost TEXT NOT NULL,
            requests INTEGER NOT NULL,
            input_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
"""

_DAY_OF_TAGGED_USAGE = "SELECT substr(period_start, 1, 10) FROM usage WHERE id = {row}.usage_id"


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        f"""
        CREATE TABLE report_dirty_days (day TEXT PRIMARY KEY) WITHOUT ROWID;

        CREATE TABLE report_rollup (
            day TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            tier TEXT NOT NULL,
            source TEXT NOT NULL,
            currency TEXT NOT NULL,
            {_MEASURES}
            PRIMARY KEY (day, provider, model, tier, source, currency)
        ) WITHOUT ROWID;

        CREATE TABLE report_tag_rollup (
            key TEXT NOT NULL,
            day TEXT NOT NULL,
            value TEXT NOT NULL,
            model TEXT NOT NULL,
            tier TEXT NOT NULL,
            currency TEXT NOT NULL,
            {_MEASURES}
            PRIMARY KEY (key, day, value, model, tier, currency)
        ) WITHOUT ROWID;

        CREATE TRIGGER report_usage_inserted AFTER INSERT ON usage BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day) VALUES (substr(NEW.period_start, 1, 10));
        END;
        CREATE TRIGGER report_usage_deleted AFTER DELETE ON usage BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day) VALUES (substr(OLD.period_start, 1, 10));
        END;
        CREATE TRIGGER report_usage_updated AFTER UPDATE ON usage BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day) VALUES (substr(OLD.period_start, 1, 10));
            INSERT OR IGNORE INTO report_dirty_days (day) VALUES (substr(NEW.period_start, 1, 10));
        END;
        CREATE TRIGGER report_tags_inserted AFTER INSERT ON usage_tags BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day) {_DAY_OF_TAGGED_USAGE.format(row="NEW")};
        END;
        CREATE TRIGGER report_tags_deleted AFTER DELETE ON usage_tags BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day) {_DAY_OF_TAGGED_USAGE.format(row="OLD")};
        END;
        CREATE TRIGGER report_tags_updated AFTER UPDATE ON usage_tags BEGIN
            INSERT OR IGNORE INTO report_dirty_days (day) {_DAY_OF_TAGGED_USAGE.format(row="OLD")};
            INSERT OR IGNORE INTO report_dirty_days (day) {_DAY_OF_TAGGED_USAGE.format(row="NEW")};
        END;

        -- A store that already holds usage gets every one of its days built on the first report.
        INSERT OR IGNORE INTO report_dirty_days (day)
            SELECT DISTINCT substr(period_start, 1, 10) FROM usage;
        """,
    )


_PG_MEASURES = """
    usage_rows BIGINT NOT NULL,
    billed_rows BIGINT NOT NULL,
    list_rows BIGINT NOT NULL,
    billed_cost NUMERIC NOT NULL,
    list_cost NUMERIC NOT NULL,
    requests BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    cache_read_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
"""

# Row triggers as in SQLite: every changed day of usage (or of a tagged usage row) is marked.
POSTGRESQL = f"""
CREATE TABLE report_dirty_days (day TEXT PRIMARY KEY);

CREATE TABLE report_rollup (
    day TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    tier TEXT NOT NULL,
    source TEXT NOT NULL,
    currency TEXT NOT NULL,
    {_PG_MEASURES}
    PRIMARY KEY (day, provider, model, tier, source, currency)
);

CREATE TABLE report_tag_rollup (
    key TEXT NOT NULL,
    day TEXT NOT NULL,
    value TEXT NOT NULL,
    model TEXT NOT NULL,
    tier TEXT NOT NULL,
    currency TEXT NOT NULL,
    {_PG_MEASURES}
    PRIMARY KEY (key, day, value, model, tier, currency)
);

CREATE FUNCTION report_mark_usage_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO report_dirty_days (day) VALUES (substr(OLD.period_start, 1, 10))
            ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO report_dirty_days (day) VALUES (substr(NEW.period_start, 1, 10))
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_mark_tag_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO report_dirty_days (day)
            SELECT substr(period_start, 1, 10) FROM usage WHERE id = OLD.usage_id
            ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO report_dirty_days (day)
            SELECT substr(period_start, 1, 10) FROM usage WHERE id = NEW.usage_id
            ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER report_usage_inserted AFTER INSERT ON usage
    FOR EACH ROW EXECUTE FUNCTION report_mark_usage_day();
CREATE TRIGGER report_usage_deleted AFTER DELETE ON usage
    FOR EACH ROW EXECUTE FUNCTION report_mark_usage_day();
CREATE TRIGGER report_usage_updated AFTER UPDATE ON usage
    FOR EACH ROW EXECUTE FUNCTION report_mark_usage_day();
CREATE TRIGGER report_tags_inserted AFTER INSERT ON usage_tags
    FOR EACH ROW EXECUTE FUNCTION report_mark_tag_day();
CREATE TRIGGER report_tags_deleted AFTER DELETE ON usage_tags
    FOR EACH ROW EXECUTE FUNCTION report_mark_tag_day();
CREATE TRIGGER report_tags_updated AFTER UPDATE ON usage_tags
    FOR EACH ROW EXECUTE FUNCTION report_mark_tag_day();

INSERT INTO report_dirty_days (day)
    SELECT DISTINCT substr(period_start, 1, 10) FROM usage ON CONFLICT DO NOTHING;
"""
