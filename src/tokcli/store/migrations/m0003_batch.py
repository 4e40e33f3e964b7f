"""Batch jobs: one row per `tokcli batch submit`, one row per provider batch it became (a file
over a provider's limits is split into parts), and the intent log of every remote step.

The intent log is what makes a crash safe: a step is written as `intent` before the request
leaves and as `done` (with what the provider answered) after; `resume` finds intents without
an outcome and reconciles them with the provider instead of repeating them blindly.
"""

from tokcli.store.migrations import execute_script


def apply(conn):
    execute_script(
        conn,
        """
        CREATE TABLE batch_jobs (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            endpoint TEXT,
            base_url TEXT NOT NULL,
            input_path TEXT NOT NULL,
            input_sha256 TEXT NOT NULL,
            input_bytes INTEGER NOT NULL,
            request_count INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            estimate TEXT,
            state TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            results_path TEXT,
            results_at TEXT,
            superseded INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX batch_jobs_fingerprint ON batch_jobs(fingerprint, superseded);
        CREATE INDEX batch_jobs_state ON batch_jobs(state);
        CREATE TABLE batch_parts (
            job_id TEXT NOT NULL REFERENCES batch_jobs(id),
            part INTEGER NOT NULL,
            first_line INTEGER NOT NULL,
            start_offset INTEGER NOT NULL,
            end_offset INTEGER NOT NULL,
            request_count INTEGER NOT NULL,
            token TEXT NOT NULL UNIQUE,
            step TEXT NOT NULL DEFAULT 'pending',
            file_id TEXT,
            batch_id TEXT,
            remote_status TEXT,
            status TEXT,
            counts TEXT,
            remote TEXT,
            usage_recorded INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (job_id, part)
        );
        CREATE INDEX batch_parts_batch ON batch_parts(batch_id);
        CREATE TABLE batch_steps (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL REFERENCES batch_jobs(id),
            part INTEGER,
            step TEXT NOT NULL,
            phase TEXT NOT NULL,
            detail TEXT,
            wall_time REAL NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX batch_steps_job ON batch_steps(job_id, part, id);
        """,
    )
