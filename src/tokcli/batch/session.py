"""Batch jobs as library calls: plan and submit a file once, poll, collect results, cancel,
resume and acknowledge, each under the store's batch lock (one acting process per store).

`cli/batch.py` parses options, calls these, renders what they return and turns outcomes into
exit codes; nothing here prints or exits. Errors of one job in a run over many (`poll` of every
job, `resume` of every half-submitted one) are returned with the job, never stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.errors import ExitCode, OptionError, TokcliError

if TYPE_CHECKING:
    from tokcli.batch.engine import Context as EngineContext
    from tokcli.batch.estimate import Estimate
    from tokcli.batch.jobs import Job
    from tokcli.batch.limits import Limits
    from tokcli.batch.results import ResultsSummary
    from tokcli.batch.scan import ScanResult
    from tokcli.context import Context

LOCK_WAIT = 30.0  # seconds submit, results, cancel, resume and ack wait for another process
RUNNING = ("submitting", "running")
# The `exit` names of poll's JSON, as documented (docs/commands/batch.md, batch-recovery.md).
EXIT_NAMES = {ExitCode.OK: "finished", ExitCode.BATCH_RUNNING: "running",
              ExitCode.BATCH_FAILED: "failed"}  # fmt: skip


@dataclass
class Plan:
    """A checked, priced batch file: what `submit` sends and `--dry-run` shows."""

    scan: ScanResult
    estimate: Estimate
    limits: Limits


@dataclass
class Submitted:
    job: Job
    existing: bool  # the file was submitted before: this is that job
    sent: bool  # anything was sent to the provider by this call


@dataclass
class PollOutcome:
    skipped: bool = False  # another process holds the lock (a second cron run)
    current: list[Job] = field(default_factory=list)  # the jobs polled, as they are now
    changed: dict[str, Job] = field(default_factory=dict)  # those whose state moved
    errors: list[tuple[str, TokcliError]] = field(default_factory=list)  # per job, run went on


@dataclass
class ResumeOutcome:
    jobs: list[Job]
    errors: list[tuple[str, TokcliError]]


def unacked_failure(job: Job) -> bool:
    return job.state == "failed" and job.acked_at is None


def poll_exit(found: list[Job]) -> ExitCode:
    """4 while a failed job is not acknowledged, else 3 while one runs, else 0."""
    if any(unacked_failure(j) for j in found):
        return ExitCode.BATCH_FAILED
    if {j.state for j in found} & set(RUNNING):
        return ExitCode.BATCH_RUNNING
    return ExitCode.OK


def failure_reasons(job: Job) -> list[str]:
    """Why each failed batch failed (validation, enqueued-token limit): the provider's first
    error, with its line when the provider gives one."""
    reasons = []
    for part in job.parts:
        if part.status != "failed":
            continue
        first = ((part.remote.get("errors") or {}).get("data") or [{}])[0]
        where = f" (line {first['line']} of part {part.part})" if first.get("line") else ""
        reason = f"{first.get('code') or 'failed'}: {first.get('message') or 'no reason given'}"
        reasons.append(f"{job.id}: batch {part.batch_id} failed{where}: {reason}")
    return reasons


def plan(
    context: Context,
    file: Path,
    provider: str,
    *,
    endpoint: str | None = None,
    max_requests: int | None = None,
    max_bytes: int | None = None,
) -> Plan:
    """Validate every line (InputError names file and line), split and price the file."""
    from tokcli.batch.estimate import estimate_scan, token_counter
    from tokcli.batch.limits import LIMITS
    from tokcli.batch.scan import scan_file

    limits = LIMITS[provider].tightened(max_requests, max_bytes)
    counter, exact, method = token_counter(provider)
    scan = scan_file(file, provider, endpoint=endpoint, limits=limits, count_tokens=counter)
    return Plan(scan, estimate_scan(scan, context.registry, context.now(), exact, method), limits)


class BatchSession:
    """One store's batch jobs, for one run: the provider key comes from `api_key_file` or the
    environment, and `base_url` (a gateway) overrides the job's own."""

    def __init__(
        self,
        context: Context,
        *,
        api_key_file: Path | None = None,
        base_url: str | None = None,
        lock_wait: float = LOCK_WAIT,
    ):
        self.context, self.api_key_file, self.base_url = context, api_key_file, base_url
        self.lock_wait = lock_wait
        self._conn: Any = None

    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self.context.open_store()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> BatchSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def locked(self, wait: float | None = None) -> Iterator[None]:
        from tokcli.batch.lock import BatchLock

        lock = BatchLock(self.context.store_path)
        lock.acquire(wait=self.lock_wait if wait is None else wait)
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def provider_for(self, job: Job, base_url: str | None = None) -> Iterator[EngineContext]:
        """The engine's context for `job`: its provider opened with the key, closed after."""
        from tokcli.batch.client import open_provider, read_key
        from tokcli.batch.engine import Context as EngineContext

        environ = self.context.environ
        key = read_key(job.provider, environ, self.api_key_file)
        url = base_url or self.base_url or job.base_url
        provider = open_provider(job.provider, base_url=url, key=key, environ=environ)
        try:
            yield EngineContext(
                conn=self.conn, provider=provider, now=self.context.now, note=self.context.warn
            )
        finally:
            provider.close()

    # -- the store's jobs ------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        from tokcli.batch import jobs

        return jobs.list_jobs(self.conn)

    def job(self, ref: str) -> Job:
        from tokcli.batch import jobs

        return jobs.load_job(self.conn, ref)

    def acknowledge(self, ref: str) -> Job:
        """Mark a failed job seen: `poll` and `status` stop exiting 4 for it."""
        from tokcli.batch import jobs

        with self.locked():
            found = jobs.load_job(self.conn, ref)
            if found.state != "failed":
                raise TokcliError(
                    f"{found.id} is {found.state}, not failed: nothing to acknowledge"
                )
            jobs.acknowledge(self.conn, found, self.context.now())
        return found

    # -- submit ------------------------------------------------------------------------------

    def submit(self, plan: Plan, *, base_url: str, tags: dict[str, str], force: bool) -> Submitted:
        """The job for this file and these options: the existing one (finished if a crash left
        it half-submitted) unless `force`, else a new one, recorded before anything is sent."""
        from tokcli.batch import engine, jobs

        scan = plan.scan
        fingerprint = engine.fingerprint(
            provider=scan.provider, base_url=base_url, endpoint=scan.endpoint,
            sha256=scan.sha256, tags=tags, limits=plan.limits,
        )  # fmt: skip
        with self.locked():
            existing = jobs.find_by_fingerprint(self.conn, fingerprint)
            if existing is not None and existing.state == jobs.SUBMITTING:
                if force:  # its in-doubt batch would be orphaned, and paid for
                    raise OptionError(
                        "{job} is half-submitted: `tokcli batch resume {job}` or "
                        "`tokcli batch cancel {job}` before {force}",
                        job=existing.id,
                    )
                self._send(existing, base_url)
                return Submitted(existing, existing=True, sent=True)
            if existing is not None and not force:
                return Submitted(existing, existing=True, sent=False)
            if existing is not None:
                jobs.supersede(self.conn, existing.id)
            job = jobs.create_job(
                self.conn, scan=scan, base_url=base_url, fingerprint=fingerprint, tags=tags,
                estimate=plan.estimate.to_dict(), now=self.context.now(),
            )  # fmt: skip
            self._send(job, base_url, fresh=True)
        return Submitted(job, existing=False, sent=True)

    def _send(self, job: Job, base_url: str, fresh: bool = False) -> None:
        from tokcli.batch import engine

        with self.provider_for(job, base_url) as ctx:
            try:
                engine.send_parts(ctx, job, verify_input=not fresh)
            except TokcliError as exc:
                raise exc.followed_by(
                    f"; job {job.id} is recorded: `tokcli batch resume {job.id}` continues it "
                    "without a second batch"
                ) from None

    # -- poll --------------------------------------------------------------------------------

    def poll(
        self,
        ref: str | None = None,
        *,
        wait: bool = False,
        interval: float = 60.0,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> PollOutcome:
        """Refresh the named job, or every unfinished one (and the failed ones not acknowledged
        yet), from the providers; with `wait`, until they end or `timeout` seconds pass."""
        deadline = None if timeout is None else clock() + timeout
        outcome = PollOutcome()
        while True:
            if not self._poll_round(ref, outcome) and not wait:
                outcome.skipped = True  # another poll is at work
                return outcome
            outcome.current = self._poll_targets(ref)
            running = [j for j in outcome.current if j.state in RUNNING]
            out_of_time = deadline is not None and clock() >= deadline
            if not wait or not running or out_of_time:
                return outcome
            sleep(interval if deadline is None else max(0.0, min(interval, deadline - clock())))

    def _poll_targets(self, ref: str | None) -> list[Job]:
        from tokcli.batch import jobs

        if ref is not None:
            return [jobs.load_job(self.conn, ref)]
        return jobs.list_jobs(self.conn, unfinished_only=True, unacked_failed=True)

    def _poll_round(self, ref: str | None, outcome: PollOutcome) -> bool:
        """One round under the lock; False if another process holds it."""
        from tokcli.batch import engine, jobs
        from tokcli.batch.lock import Busy

        try:
            with self.locked(wait=0):
                for target in self._poll_targets(ref):
                    if target.state not in RUNNING:
                        continue
                    try:
                        with self.provider_for(target) as ctx:
                            if engine.poll_job(ctx, target):
                                outcome.changed[target.id] = jobs.load_job(self.conn, target.id)
                    except TokcliError as exc:
                        if ref is not None:
                            raise
                        # Every job: one job's trouble (a missing key, a provider down) must
                        # not stop the others from being polled.
                        outcome.errors.append((target.id, exc))
        except Busy:
            return False
        return True

    # -- results / cancel / resume -----------------------------------------------------------

    def results(self, ref: str, output: Path) -> tuple[Job, ResultsSummary]:
        """Download results, write them in input order, record usage and cost in the store."""
        from tokcli.batch import engine, jobs
        from tokcli.batch.results import collect

        with self.locked():
            found = jobs.load_job(self.conn, ref)
            with self.provider_for(found) as ctx:
                if found.state in RUNNING:
                    engine.poll_job(ctx, found)
                summary = collect(
                    self.conn, ctx.provider, self.context.registry, found, output, self.context.now
                )
        return found, summary

    def cancel(self, ref: str) -> Job:
        """Cancel a job's running batches; parts not yet sent are never sent."""
        from tokcli.batch import engine, jobs

        with self.locked():
            found = jobs.load_job(self.conn, ref)
            with self.provider_for(found) as ctx:
                engine.cancel_job(ctx, found)
        return found

    def resume(
        self, ref: str | None = None, *, adopt: str | None = None, part: int = 0
    ) -> ResumeOutcome:
        """Finish the named job, or every half-submitted one, without a second batch; `adopt`
        records a provider batch id as `part`'s batch first."""
        from tokcli.batch import engine, jobs

        with self.locked():
            if ref is None:
                targets = [j for j in jobs.list_jobs(self.conn, unfinished_only=True)
                           if j.state == jobs.SUBMITTING]  # fmt: skip
            else:
                targets = [jobs.load_job(self.conn, ref)]
            errors = []
            for target in targets:
                try:
                    with self.provider_for(target) as ctx:
                        if adopt:
                            engine.adopt(ctx, target, part, adopt)
                        engine.send_parts(ctx, target)
                except TokcliError as exc:
                    if ref is not None:
                        raise
                    errors.append((target.id, exc))  # one in doubt does not stop the rest
            return ResumeOutcome([jobs.load_job(self.conn, t.id) for t in targets], errors)
