"""`tokcli store info` on both backends, from one function (store_info) that asks each backend
for its tables, size and journal (the two copies it replaced differed only in those queries)."""

import pytest

from tokcli.store import latest_version
from tokcli.store.migrations import all_migrations

EVERY_TABLE = {"usage", "usage_tags", "imports", "schema_migrations", "batch_jobs"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_store_info_tells_each_backend(cli, tmp_path, request, backend):
    location = (
        str(tmp_path / "usage.db")
        if backend == "sqlite"
        else request.getfixturevalue("postgresql_store")
    )
    result = cli("store", "info", "--store", location, "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["backend"] == backend
    assert data["schema_version"] == data["latest_schema_version"] == latest_version()
    assert set(data["tables"]) >= EVERY_TABLE and data["tables"]["usage"] == 0
    assert data["tables"]["schema_migrations"] == len(all_migrations())  # one row each
    assert data["size_bytes"] > 0
    if backend == "sqlite":
        assert data["path"] == location and data["journal_mode"] == "wal"
    else:
        assert data["journal_mode"] == "postgresql" and data["path"].startswith("postgresql://")
