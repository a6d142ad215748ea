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

