"""Local tooling: the environment wins over the dev stage's config under `make run`, and the
admin CLI finds `make run`'s database in LOCAL_DATA_DIR."""

from typing import Any

import pytest


def test_the_admin_cli_reads_make_runs_files_from_local_data_dir(tmp_path, monkeypatch):
    # Given `make run` started with LOCAL_DATA_DIR pointing elsewhere
    from functions.core import config

    (tmp_path / "mongodb-uri").write_text("mongodb://127.0.0.1:27999/\n")
    (tmp_path / "dev-jwt-secret").write_text("s" * 48)
    monkeypatch.delenv("MONGODB_URI", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path.parent)
    # When the CLI loads its settings
    settings = config.load_settings()
    # Then it talks to that database with that secret; a variable set in the environment wins
    assert settings.mongodb_uri == "mongodb://127.0.0.1:27999/" and settings.jwt_secret == "s" * 48
    monkeypatch.setenv("MONGODB_URI", "mongodb://db.example:27017/")
    assert config.load_settings().mongodb_uri == "mongodb://db.example:27017/"


def test_variables_given_to_make_run_win_over_the_dev_stage(monkeypatch):
    # Given chalice local about to apply the dev stage's variables
    from chalice.cli import factory

    from local import devserver

    applied: list[dict[str, Any]] = []
    monkeypatch.setattr(factory.CLIFactory, "load_chalice_app",
                        lambda self, environment_variables=None, **kw: applied.append(environment_variables))
    # When the developer gave ALLOWED_ORIGINS and COOKIE_SECURE in the environment
    devserver.environment_wins({"ALLOWED_ORIGINS": "http://localhost:3000", "COOKIE_SECURE": "true"})
    factory.CLIFactory.load_chalice_app(object(), {"ALLOWED_ORIGINS": "http://localhost:5173",
                                                   "COOKIE_SECURE": "false", "STAGE": "dev"})
    # Then only the stage variables they did not give are applied
    assert applied == [{"STAGE": "dev"}]


@pytest.fixture(autouse=True)
def _fresh_settings():
    from functions.core import config

    yield
    config.reset_settings()
