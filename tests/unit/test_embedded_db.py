from pathlib import Path

import pytest

from local import embedded_db


def test_without_go_or_mongodb_uri_the_message_names_both_ways_out(monkeypatch, tmp_path):
    # Given no FerretDB binary yet and no Go toolchain
    monkeypatch.setattr(embedded_db, "BINARY", tmp_path / "ferretdb")
    monkeypatch.setattr(embedded_db.shutil, "which", lambda name: None)
    # When the launcher is asked to build it
    with pytest.raises(embedded_db.EmbeddedDBError) as caught:
        embedded_db.build()
    # Then it says how to get going: install Go, or point MONGODB_URI at a server
    message = str(caught.value)
    assert "Go" in message
    assert "MONGODB_URI" in message



def test_every_patch_anchor_exists_in_the_pinned_ferretdb_source(tmp_path):
    # Given the pinned FerretDB module's source (the build downloads the same)
    import json
    import shutil
    import subprocess

    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain")
    info = json.loads(subprocess.run([go, "mod", "download", "-json", f"{embedded_db.MODULE}@{embedded_db.VERSION}"],
                                     capture_output=True, text=True, check=True).stdout)
    src = tmp_path / "src"
    for patch in embedded_db.PATCHES:
        target = src / patch.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(info["Dir"]) / patch.path, target)
        target.chmod(0o644)
    # When the patches are applied
    embedded_db.apply_patches(src)
    # Then each landed once where it belongs
    handler = (src / "internal/handler/msg_update.go").read_text()
    assert handler.count("writeLock.Lock()") == 1
    registry = (src / "internal/backends/postgresql/metadata/registry.go").read_text()
    assert registry.count('patch "gin-indexes"') == 2
    assert registry.count('patch "inline-documents"') == 1
    assert (src / "internal/handler/cureconnect_write_lock.go").exists()
    query = (src / "internal/backends/postgresql/query.go").read_text()
    assert query.count('patch "in-pushdown"') == 1
    collection = (src / "internal/backends/postgresql/collection.go").read_text()
    assert collection.count('patch "sql-sort-count"') == 3  # count, group, order: in Query only
    assert collection.index('patch "sql-sort-count"') < collection.index("func (c *collection) InsertAll(")
    for go_file in ("internal/handler/msg_find.go", "internal/handler/msg_count.go",
                    "internal/handler/msg_aggregate.go", "internal/handler/registry/postgresql.go"):
        assert 'patch "sql-sort-count"' in (src / go_file).read_text(), go_file
    assert (src / "internal/backends/postgresql/cureconnect_sql_sort_count.go").exists()


def test_a_patch_anchor_that_moved_is_an_error_naming_the_file(tmp_path):
    (tmp_path / "internal/handler").mkdir(parents=True)
    (tmp_path / "internal/handler/msg_update.go").write_text("package handler\n")
    with pytest.raises(embedded_db.EmbeddedDBError, match=r"msg_update\.go"):
        embedded_db._insert(tmp_path, "internal/handler/msg_update.go", r"^func \(h \*Handler\) MsgUpdate\(", "x")


def test_make_run_names_the_sqlite_data_an_older_run_left(monkeypatch, tmp_path, capsys):
    # Given SQLite files from a make run before the PostgreSQL default
    from local import run

    (tmp_path / "ferretdb").mkdir()
    (tmp_path / "ferretdb" / "cureconnect.sqlite").write_bytes(b"")
    monkeypatch.setattr(run, "DATA", tmp_path)
    db = embedded_db.EmbeddedDB(tmp_path / "embedded", backend="postgresql")
    # When make run starts on PostgreSQL
    run._mention_legacy_sqlite(db)
    # Then it says where that data is and how to serve it, and leaves it there
    said = capsys.readouterr().out
    assert str(tmp_path / "ferretdb") in said and "--backend sqlite" in said
    assert (tmp_path / "ferretdb" / "cureconnect.sqlite").exists()
