"""Batch recovery identity and acknowledgement (issue 15).

- `batch_jobs.wire_ids`: 1 when the job sends `<job id>-<line>` as every request's custom_id
  (the recovery identity: a remote batch's content says which job it belongs to); 0 for jobs
  submitted before, which sent the user's custom_ids.
- `batch_jobs.acked_at`: when the user acknowledged a failed job (`tokcli batch ack`); until
  then `poll --all` and `status` keep exiting 4.
"""

from tokcli.store.connection import Connection
from tokcli.store.migrations import execute_script


def apply(conn: Connection) -> None:
    execute_script(
        conn,
        """
        ALTER TABLE batch_jobs ADD COLUMN wire_ids INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE batch_jobs ADD COLUMN acked_at TEXT;
        """,
    )


POSTGRESQL = """
ALTER TABLE batch_jobs ADD COLUMN wire_ids INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batch_jobs ADD COLUMN acked_at TEXT;
"""
