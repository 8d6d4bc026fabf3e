"""Choosing the ML Metadata store by URL, and the errors a person sees when it cannot be used."""

from __future__ import annotations

import time

import pytest

from mlops import devdb, metadata
from tests.conftest import run_cli


def test_urls_name_sqlite_or_mysql_and_the_password_comes_from_env_or_file(tmp_path):
    assert metadata.parse_url("sqlite:///tmp/m.sqlite").path == "/tmp/m.sqlite"
    target = metadata.parse_url("mysql://mlops:s%40cret@db.internal:3307/mlmd", environ={})
    assert (target.host, target.port, target.database, target.user, target.password) == \
        ("db.internal", 3307, "mlmd", "mlops", "s@cret")
    assert "s@cret" not in repr(target) and "s@cret" not in target.describe()
    from_env = metadata.parse_url("mysql://mlops@db/mlmd",
                                  environ={"MLOPS_METADATA_PASSWORD": "pw-env"})
    assert from_env.password == "pw-env" and from_env.port == 3306
    secret = tmp_path / "password"
    secret.write_text("pw-file\n")
    assert metadata.parse_url("mysql://mlops@db/mlmd", str(secret), environ={}).password == \
        "pw-file"
    assert metadata.redact_url("mysql://u:pw@h/db") == "mysql://u:***@h/db"
    for bad in ("postgres://u@h/db", "mysql://h/db", "mysql://u@h/", "sqlite://relative"):
        with pytest.raises(metadata.MetadataError):
            metadata.parse_url(bad, environ={})


def test_config_never_prints_the_password():
    result = run_cli("config", "--metadata", "mysql://mlops:hunter2@db:3306/mlmd")
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout and "mysql://mlops:***@db:3306/mlmd" in result.stdout


def _runs(url: str, env: dict | None = None):
    started = time.monotonic()
    result = run_cli("runs", "--metadata", url, env=env)
    return result, time.monotonic() - started


def test_mysql_store_opens_and_lists_no_runs(mysql_server):
    # A database of its own: the session's server is shared with tests that record runs.
    empty = devdb.create_database(mysql_server, "empty_store")
    result, _ = _runs(empty, {"MLOPS_METADATA_PASSWORD_FILE": str(mysql_server.password_file)})
    assert result.returncode == 0, result.stderr
    assert "No runs of digits-pipeline recorded yet." in result.stdout


def test_unreachable_database_is_one_clear_error():
    port = devdb.free_port()  # nothing listens there
    result, seconds = _runs(f"mysql://mlops:topsecret@127.0.0.1:{port}/mlmd")
    assert result.returncode != 0 and seconds < 30
    assert f"cannot reach ML Metadata on MySQL at 127.0.0.1:{port}, database 'mlmd'" in \
        result.stderr
    assert "topsecret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_password_is_one_clear_error(mysql_server):
    result, seconds = _runs(f"mysql://mlops:wrong-one@127.0.0.1:{mysql_server.port}/mlmd")
    assert result.returncode != 0 and seconds < 30
    assert "login refused for user 'mlops'" in result.stderr
    assert f"127.0.0.1:{mysql_server.port}, database 'mlmd'" in result.stderr
    assert "wrong-one" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_database_is_one_clear_error_and_is_not_created(mysql_server):
    result, _ = _runs(f"mysql://mlops@127.0.0.1:{mysql_server.port}/no_such_db",
                      {"MLOPS_METADATA_PASSWORD_FILE": str(mysql_server.password_file)})
    assert result.returncode != 0
    assert "database 'no_such_db'" in result.stderr and "does not exist" in result.stderr
    assert mysql_server.password not in result.stdout + result.stderr


def test_run_against_an_unreachable_database_stops_before_any_component(tmp_path):
    port = devdb.free_port()
    result = run_cli("run", "--home", str(tmp_path), "--metadata",
                     f"mysql://mlops:topsecret@127.0.0.1:{port}/mlmd")
    assert result.returncode != 0
    assert f"127.0.0.1:{port}, database 'mlmd'" in result.stderr
    assert "topsecret" not in result.stdout + result.stderr
    assert "started" not in result.stdout  # no component ran
    assert not (tmp_path / "publish").exists()
