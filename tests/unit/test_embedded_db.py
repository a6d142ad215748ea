import json
import shutil
import subprocess
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


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain")
    return go


@pytest.fixture
def patched_source(tmp_path):
    """The files of the pinned FerretDB module (the build downloads the same) that the patches
    touch, with the patches applied."""
    go = _go()
    info = json.loads(subprocess.run([go, "mod", "download", "-json", f"{embedded_db.MODULE}@{embedded_db.VERSION}"],
                                     capture_output=True, text=True, check=True).stdout)
    src = tmp_path / "src"
    for part in embedded_db.patch_series():
        target = src / part.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(info["Dir"]) / part.path, target)
        target.chmod(0o644)
    embedded_db.apply_patches(src)
    return src


def test_every_patch_applies_once_where_it_belongs_in_the_pinned_ferretdb_source(patched_source):
    # Given the pinned module's files with the patches applied (fixture)
    src = patched_source
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


def test_the_go_we_add_is_gofmt_clean_in_the_overlay_and_in_every_patched_file(patched_source):
    # Given the overlay's Go files and the upstream files the patches changed (fixture)
    gofmt = Path(_go()).with_name("gofmt")
    patched = sorted({part.path for part in embedded_db.patch_series()})
    # When gofmt lists the files it would reformat
    listed = subprocess.run([str(gofmt), "-l", str(embedded_db.PATCH_DIR / "overlay"), *patched],
                            cwd=patched_source, capture_output=True, text=True, check=True).stdout
    # Then there are none (upstream's files are gofmt-clean, so any finding is ours)
    assert listed == ""
    assert len(patched) >= 10


def test_a_patch_that_no_longer_fits_the_source_is_an_error_naming_the_file(tmp_path):
    # Given a msg_update.go that is not the pinned release's
    (tmp_path / "internal/handler").mkdir(parents=True)
    (tmp_path / "internal/handler/msg_update.go").write_text("package handler\n")
    part = next(p for p in embedded_db.patch_series() if p.path.endswith("msg_update.go"))
    # When its patch is applied, Then the build stops and names the file
    with pytest.raises(embedded_db.EmbeddedDBError, match=r"atomic-writes does not apply to .*msg_update\.go"):
        embedded_db._apply(tmp_path, part)


def _one_hunk_patch(tmp_path, context: str) -> embedded_db.FilePatch:
    patch = tmp_path / "07-demo.patch"
    patch.write_text("demo: why it exists\n\n--- a/f.go\n+++ b/f.go\n@@ -2,2 +2,3 @@\n"
                     f" {context}\n+\tadded()\n }}\n")
    [part] = embedded_db.parse_patch(patch)
    return part


def test_a_hunk_whose_lines_moved_applies_at_the_one_place_they_occur(tmp_path):
    # Given a file where the hunk's lines sit two lines lower than the hunk says
    (tmp_path / "f.go").write_text("package f\n\n\nfunc a() {\n}\n")
    part = _one_hunk_patch(tmp_path, "func a() {")
    # When it is applied
    embedded_db._apply(tmp_path, part)
    # Then the line is added there, once
    assert (tmp_path / "f.go").read_text() == "package f\n\n\nfunc a() {\n\tadded()\n}\n"
    assert part.patch == "demo"


def test_a_hunk_whose_lines_occur_twice_elsewhere_is_an_error(tmp_path):
    # Given the hunk's lines twice, neither where it says
    (tmp_path / "f.go").write_text("package f\n\nvar x = 1\nfunc a() {\n}\nfunc a() {\n}\n")
    part = _one_hunk_patch(tmp_path, "func a() {")
    # When it is applied, Then nothing is guessed
    with pytest.raises(embedded_db.EmbeddedDBError, match="does not apply"):
        embedded_db._apply(tmp_path, part)


def test_any_change_to_a_patch_or_an_overlay_file_changes_the_patch_id(monkeypatch, tmp_path):
    # Given a copy of the patches and the id it builds under
    copy = tmp_path / "ferretdb"
    shutil.copytree(embedded_db.PATCH_DIR, copy)
    monkeypatch.setattr(embedded_db, "PATCH_DIR", copy)
    before = embedded_db.patch_id()
    overlay = next((copy / "overlay").rglob("*.go"))
    patch = sorted((copy / "patches").glob("*.patch"))[-1]
    # When one byte of an overlay file changes, Then the id changes, and comes back with the byte
    original = overlay.read_text()
    overlay.write_text(original + " ")
    assert embedded_db.patch_id() != before
    overlay.write_text(original)
    assert embedded_db.patch_id() == before
    # When a patch's text changes, Then the id changes
    patch.write_text(patch.read_text().replace("CureConnect", "Cureconnect", 1))
    assert embedded_db.patch_id() != before
    # When a patch is renamed (its order or name), Then the id changes too
    patch.write_text(patch.read_text().replace("Cureconnect", "CureConnect", 1))
    assert embedded_db.patch_id() == before
    patch.rename(patch.with_name("99-" + patch.name.split("-", 1)[1]))
    assert embedded_db.patch_id() != before


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
