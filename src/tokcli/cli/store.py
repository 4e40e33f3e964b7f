"""`tokcli store`: inspect, migrate and copy the usage store (SQLite file or PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from tokcli.cli.common import FormatOpt, StoreOpt, command_app, runtime
from tokcli.errors import TokcliError
from tokcli.render import Column, Output
from tokcli.store.postgres import StoreURL

app = command_app("Inspect, migrate and copy the usage store (SQLite file or PostgreSQL URL).")


@app.command("info")
def info(store: StoreOpt = None, fmt: FormatOpt = None):
    """Path, schema version and row counts of the usage store (created if missing)."""
    from tokcli.store import store_info

    rt = runtime(store=store)
    conn = rt.open_store()
    try:
        data = {"version": 1, **store_info(conn, rt.store_path)}
    finally:
        conn.close()
    rows = [{"table": name, "rows": count} for name, count in data["tables"].items()]
    notes = [
        f"store: {data['path']}",
        f"schema version {data['schema_version']} (latest {data['latest_schema_version']}), "
        f"{data['size_bytes']:,} bytes, "
        + ("PostgreSQL" if data["backend"] == "postgresql" else f"journal {data['journal_mode']}"),
    ]
    if data["unrolled_tag_keys"]:
        notes.append(
            "tag keys left out of the report rollups (values nearly unique per row; reports by "
            f"them sum the usage rows): {', '.join(data['unrolled_tag_keys'])}"
        )
    rt.emit(
        Output(
            data=data,
            rows=rows,
            columns=[Column("table", "table"), Column("rows", "rows", "int")],
            notes=notes,
        ),
        rt.format(fmt),
    )


@app.command("path")
def path(store: StoreOpt = None):
    """Print the path of the usage store that commands would use."""
    rt = runtime(store=store)
    rt.stdout.write(f"{rt.store_path}\n")


@app.command("migrate")
def migrate_store(store: StoreOpt = None, fmt: FormatOpt = None):
    """Apply the store's pending schema migrations, and say which (every command also applies
    them when it opens the store; this does it explicitly, for a shared store's upgrade)."""
    from tokcli.store import connect, latest_version, schema_version
    from tokcli.store import migrate as apply_pending

    rt = runtime(store=store)
    conn = connect(rt.store_path, migrate_to=0)
    try:
        before = schema_version(conn)
        applied = apply_pending(conn)
        after = schema_version(conn)
    finally:
        conn.close()
    data = {
        "version": 1,
        "store": str(rt.store_path),
        "from_schema_version": before,
        "schema_version": after,
        "latest_schema_version": latest_version(),
        "applied": applied,
    }
    notes = [f"store: {rt.store_path}", f"schema version {before} -> {after}"]
    rt.emit(
        Output(
            data=data,
            rows=[{"migration": name} for name in applied],
            columns=[Column("migration", "migration applied")],
            notes=notes,
        ),
        rt.format(fmt),
    )


@app.command("copy")
def copy(
    source: Annotated[str, typer.Argument(help="Store to copy from: a SQLite file or URL.")],
    destination: Annotated[str, typer.Argument(help="Store to copy into (created if missing).")],
    fmt: FormatOpt = None,
):
    """Copy every import, usage row and batch job of SOURCE into DESTINATION, in one
    transaction, and verify that the totals match; rows DESTINATION already holds are kept.

    \b
    Examples:
        tokcli store copy ~/.local/share/tokcli/usage.db postgresql://finops@db/tokcli
        tokcli store copy postgresql://finops@db/tokcli team-snapshot.db
    """
    from tokcli.store import connect, location
    from tokcli.store.copy import copy_store

    src_location, dst_location = location(source), location(destination)
    if str(src_location) == str(dst_location):
        raise TokcliError("store copy: the source and the destination are the same store")
    if not isinstance(src_location, StoreURL) and not src_location.is_file():
        raise TokcliError(f"{src_location}: no such store")
    src = connect(src_location)
    try:
        dst = connect(dst_location)
        try:
            result = copy_store(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    rt = runtime()
    data = {
        "version": 1,
        "source": str(src_location),
        "destination": str(dst_location),
        "imports": result.imports,
        "usage_copied": result.usage_copied,
        "usage_already_present": result.usage_present,
        "batch_jobs_copied": result.batch_jobs_copied,
        "batch_jobs_already_present": result.batch_jobs_present,
        "verified": result.verified,
        "totals": result.source_totals.as_dict(),
    }
    rows = [
        {"what": "usage rows", "copied": result.usage_copied, "present": result.usage_present},
        {
            "what": "batch jobs",
            "copied": result.batch_jobs_copied,
            "present": result.batch_jobs_present,
        },
        {"what": "import records", "copied": result.imports, "present": 0},
    ]
    totals = result.source_totals.as_dict()
    notes = [
        f"{src_location} -> {dst_location}",
        f"verified: {totals['rows']:,} rows, {totals['tokens']:,} tokens and every cost total "
        "equal in both stores",
    ]
    rt.emit(
        Output(
            data=data,
            rows=rows,
            columns=[
                Column("what", "what"),
                Column("copied", "copied", "int"),
                Column("present", "already present", "int"),
            ],
            notes=notes,
        ),
        rt.format(fmt),
    )
