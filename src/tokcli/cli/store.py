"""`tokcli store`: inspect the local usage store."""

from __future__ import annotations

from tokcli.cli.common import FormatOpt, StoreOpt, command_app, runtime
from tokcli.render import Column, Output

app = command_app("Inspect the local usage store.")


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
        f"{data['size_bytes']:,} bytes, journal {data['journal_mode']}",
    ]
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
