"""The order of remote steps and their intents: submit, resume, poll, cancel.

A part goes through upload (OpenAI only) and create. Before each step its intent is committed;
after it, the outcome. A crash leaves a part at `uploading` or `creating`, and the next
`resume` (or `submit` of the same file) asks the provider what happened before acting:
- uploading: a file named after the part's token is reused if the provider has it;
- creating: a batch proven to be the part's is adopted: it carries the part's token (OpenAI
  metadata), or its custom_ids are exactly the part's wire ids `<job id>-<line>` (Anthropic,
  readable once the batch ended). Only if no candidate exists is the batch created; while a
  candidate cannot be read yet, nothing is sent (InDoubt, exit 3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokcli.batch import jobs
from tokcli.batch.jobs import ABANDONED, Job, Part
from tokcli.batch.limits import ID_FIELD
from tokcli.batch.provider import PartSource, Provider, RemoteBatch
from tokcli.errors import ExitCode, OptionError, TokcliError
from tokcli.http import AmbiguousRequestError
from tokcli.store import batch_jobs as store
from tokcli.store.connection import Connection

# How far before an intent's wall-clock time a remote object may be dated and still be ours
# (clock skew between this machine and the provider).
CLOCK_SKEW = 600.0


@dataclass
class Context:
    conn: Connection
    provider: Provider
    now: Callable[[], dt.datetime]
    note: Callable[[str], None] = lambda message: None


def fingerprint(*, provider: str, base_url: str, endpoint: str | None, sha256: str,
                tags: dict[str, str], limits) -> str:  # fmt: skip
    """Same file, same provider and options -> same job (submit returns it unless --force)."""
    identity = {
        "provider": provider,
        "base_url": base_url,
        "endpoint": endpoint,
        "sha256": sha256,
        "tags": dict(sorted(tags.items())),
        "limits": [limits.max_requests, limits.max_bytes],
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def send_parts(ctx: Context, job: Job, *, verify_input: bool = True) -> None:
    """Upload and create every part not created yet, in order; safe to call again.
    `verify_input=False` only right after the scan that produced the job."""
    pending = [p for p in job.parts if p.batch_id is None and p.step != ABANDONED]
    if pending and verify_input:
        check_input_unchanged(job)  # a resumed job must send the bytes it validated
    for part in pending:
        _send_part(ctx, job, part)
    jobs.set_job_state(ctx.conn, job, ctx.now())


def _send_part(ctx: Context, job: Job, part: Part) -> None:
    source = part_source(job, part)
    if _uses_upload(ctx.provider, source) and part.step in ("pending", "uploading"):
        _upload(ctx, part, source)
    if part.step == "creating":
        remote = _find_created(ctx, job, part)
        if remote is not None:
            ctx.note(f"{job.id} part {part.part}: adopted {remote.batch_id} created before a crash")
            jobs.finish_step(ctx.conn, part, "create", ctx.now(), remote=remote, step="created")
            return
    jobs.begin_step(ctx.conn, part, "create", "creating", ctx.now(), file_id=part.file_id)
    try:
        remote = ctx.provider.create(
            token=part.token,
            file_id=part.file_id,
            source=source,
            endpoint=job.endpoint,
            metadata={"tokcli_job": job.id, "tokcli_part": str(part.part)},
        )
    except AmbiguousRequestError as exc:
        # The create may have reached the provider: look before anyone creates it again.
        try:
            remote = _find_created(ctx, job, part)
        except TokcliError as lookup:
            raise _BothErrors(exc, lookup) from None
        if remote is None:
            raise
    jobs.finish_step(ctx.conn, part, "create", ctx.now(), remote=remote, step="created")


def part_source(job: Job, part: Part) -> PartSource:
    return PartSource(
        Path(job.input_path), part.start_offset, part.end_offset,
        job_id=job.id if job.wire_ids else None, first_line=part.first_line,
        id_field=ID_FIELD[job.provider],
    )  # fmt: skip


def _uses_upload(provider: Provider, source: PartSource) -> bool:
    """OpenAI always uploads, Anthropic never; Gemini only parts too big to send inline."""
    decide = getattr(provider, "uses_upload", None)
    return decide(source) if decide else provider.needs_upload


def _upload(ctx: Context, part: Part, source: PartSource) -> None:
    """Upload the part once. In doubt (a crash, or a connection lost after sending), look for
    the earlier upload by name, size and content hash before sending it again."""
    name = f"tokcli-{part.token}.jsonl"
    size, digest = source.wire_size(), source.wire_sha256()
    file_id = ctx.provider.find_upload(name, size, digest) if part.step == "uploading" else None
    attempts = 3
    while file_id is None:
        jobs.begin_step(ctx.conn, part, "upload", "uploading", ctx.now(), filename=name,
                        bytes=size, sha256=digest)  # fmt: skip
        try:
            file_id = ctx.provider.upload(name, source)
        except AmbiguousRequestError:
            file_id = ctx.provider.find_upload(name, size, digest)
            attempts -= 1
            if file_id is None and attempts == 0:
                raise
            if file_id is None:
                ctx.note(f"{part.job_id} part {part.part}: upload lost, none stored; sending again")
    jobs.finish_step(ctx.conn, part, "upload", ctx.now(), file_id=file_id, step="uploaded")


class InDoubt(TokcliError):
    """A batch that may be this part's cannot be checked yet: nothing is sent, to never pay
    twice; `resume` decides once the batch can be read."""

    code = ExitCode.BATCH_RUNNING


def _find_created(ctx: Context, job: Job, part: Part) -> RemoteBatch | None:
    """The batch a create in doubt made, proven by its content: the provider's stored token
    (OpenAI metadata) or its custom_ids, which must be exactly this part's. Never a batch
    whose ids belong to another job, whatever its size and age."""
    since = jobs.intent_time(ctx.conn, job.id, part.part, "create") - CLOCK_SKEW
    known = store.known_batch_ids(ctx.conn)
    candidates = ctx.provider.find_created(
        token=part.token, request_count=part.request_count, since=since, known_ids=known
    )
    expected = sorted(part_source(job, part).wire_ids())
    proven, unreadable = [], []
    for remote in candidates:
        if remote.owned:
            proven.append(remote)
            continue
        with tempfile.TemporaryDirectory(prefix="tokcli-check-") as folder:
            ids = ctx.provider.request_ids(remote, Path(folder))
        if ids is None:
            unreadable.append(remote)
        elif sorted(ids) == expected:
            proven.append(remote)
    if len(proven) > 1:  # the same wire ids twice: two batches of this very part exist
        names = ", ".join(r.batch_id for r in proven)
        adopt_one = f"`tokcli batch resume {job.id} --adopt ID --part {part.part}`"  # a command
        raise TokcliError(
            f"{job.id} part {part.part}: batches {names} all hold this part's requests; "
            f"{adopt_one} the one to keep"
        )
    if proven:
        return proven[0]
    if unreadable:
        names = ", ".join(r.batch_id for r in unreadable)
        raise InDoubt(
            f"{job.id} part {part.part}: cannot tell yet whether {names} holds this part's "
            "requests (the provider shows them only once a batch ends); nothing was sent; run "
            "`tokcli batch resume` again later"
        )
    return None


class _BothErrors(TokcliError):
    """Two errors told as one line, each still naming its options in the caller's terms."""

    def __init__(self, first: TokcliError, second: TokcliError):
        self.errors = (first, second)
        super().__init__(f"{first}; {second}")

    def render(self, name_of: Callable[[str], str]) -> str:
        return "; ".join(error.render(name_of) for error in self.errors)


def adopt(ctx: Context, job: Job, part_index: int, batch_id: str) -> None:
    """The user names the batch a part became (when find_created cannot tell)."""
    if not 0 <= part_index < len(job.parts):
        raise OptionError(
            "{part}: {job} has parts 0 to {last}", job=job.id, last=len(job.parts) - 1
        )
    part = job.parts[part_index]
    if part.batch_id is not None:
        raise TokcliError(f"{job.id} part {part_index} already has batch {part.batch_id}")
    owner = store.part_of_batch(ctx.conn, batch_id)
    if owner is not None:
        raise TokcliError(f"{batch_id} already belongs to {owner[0]} part {owner[1]}")
    remote = ctx.provider.retrieve(batch_id)
    with tempfile.TemporaryDirectory(prefix="tokcli-check-") as folder:
        ids = ctx.provider.request_ids(remote, Path(folder))
    if ids is not None and sorted(ids) != sorted(part_source(job, part).wire_ids()):
        raise TokcliError(
            f"{batch_id} does not hold the requests of {job.id} part {part_index}; not adopted"
        )
    jobs.finish_step(ctx.conn, part, "create", ctx.now(), remote=remote, step="created")
    jobs.set_job_state(ctx.conn, job, ctx.now())


def poll_job(ctx: Context, job: Job) -> bool:
    """Refresh every unfinished part; True when anything changed."""
    changed = False
    for part in job.parts:
        if part.batch_id is None or part.terminal:
            continue
        remote = ctx.provider.retrieve(part.batch_id)
        changed |= jobs.record_remote(ctx.conn, part, remote, ctx.now())
    before = job.state
    jobs.set_job_state(ctx.conn, job, ctx.now())
    return changed or job.state != before


def cancel_job(ctx: Context, job: Job) -> None:
    """Cancel running parts; parts never created are abandoned so that resume skips them."""
    for part in job.parts:
        if part.batch_id is None and part.step == "creating":
            remote = _find_created(ctx, job, part)  # in doubt: it may exist, so cancel it too
            if remote is not None:
                jobs.finish_step(ctx.conn, part, "create", ctx.now(), remote=remote, step="created")
        if part.batch_id is None:
            if part.step != ABANDONED:
                _delete_orphan_upload(ctx, part)
                jobs.finish_step(ctx.conn, part, "cancel", ctx.now(), step=ABANDONED)
            continue
        if part.terminal:
            continue
        jobs.begin_step(ctx.conn, part, "cancel", part.step, ctx.now())
        remote = ctx.provider.cancel(part.batch_id)
        jobs.finish_step(ctx.conn, part, "cancel", ctx.now(), remote=remote)
    jobs.set_job_state(ctx.conn, job, ctx.now())


def _delete_orphan_upload(ctx: Context, part: Part) -> None:
    """A part cancelled before its batch existed: its uploaded file (and any copy under its
    name) would stay on the provider for 30 days; tokcli made them, tokcli deletes them."""
    if not ctx.provider.needs_upload:
        return
    if part.file_id:
        ctx.provider.delete_file(part.file_id)
    if part.step == "uploading":  # an upload in doubt: remove whatever arrived
        ctx.provider.find_upload(f"tokcli-{part.token}.jsonl", -1, "")


def check_input_unchanged(job: Job) -> None:
    path = Path(job.input_path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise TokcliError(f"{path}: cannot read the job's input file: {exc.strerror}") from None
    if digest.hexdigest() != job.input_sha256:
        raise TokcliError(
            f"{path}: changed since job {job.id} was submitted; restore it or cancel the job"
        )
