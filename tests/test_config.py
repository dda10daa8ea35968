"""config.yml and environment variables; a bad configuration stops start-up with a clear message."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def test_the_shipped_config_file_is_valid(monkeypatch):
    from pathlib import Path

    settings = load_settings(Path(__file__).parent.parent / "config.yml")
    assert settings.database_url.startswith("sqlite")
    assert settings.nlu.backend == "embedded"


def test_values_come_from_the_file(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("database_url: postgresql+psycopg://relais@db/relais\nnlu:\n  confidence_threshold: 0.7\n")
    settings = load_settings(path)
    assert settings.database_url == "postgresql+psycopg://relais@db/relais"
    assert settings.nlu.confidence_threshold == 0.7


def test_environment_variables_win_over_the_file(tmp_path, monkeypatch):
    path = tmp_path / "config.yml"
    path.write_text("database_url: sqlite:///from-file.sqlite3\nnlu:\n  confidence_threshold: 0.7\n")
    monkeypatch.setenv("RELAIS_DATABASE_URL", "sqlite:///from-env.sqlite3")
    monkeypatch.setenv("RELAIS_NLU__CONFIDENCE_THRESHOLD", "0.4")
    settings = load_settings(path)
    assert settings.database_url == "sqlite:///from-env.sqlite3"
    assert settings.nlu.confidence_threshold == 0.4


def test_a_missing_file_named_explicitly_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere\.yml: configuration file not found"):
        load_settings(tmp_path / "nowhere.yml")


def test_bad_yaml_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("database_url: sqlite:///x\nnlu:\n  backend: [embedded\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(path) in str(error.value) and "not valid YAML at line" in str(error.value)


def test_a_bad_value_names_the_key_and_what_was_expected(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("nlu:\n  confidence_threshold: beaucoup\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert str(path) in message
    assert "nlu.confidence_threshold" in message and "RELAIS_NLU__CONFIDENCE_THRESHOLD" in message
    assert "number" in message and "beaucoup" in message


def test_an_unknown_key_is_reported_not_ignored(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("databse_url: sqlite:///typo.sqlite3\n")
    with pytest.raises(ConfigError, match="key 'databse_url': unknown key"):
        load_settings(path)


def test_a_database_url_of_an_unsupported_kind_is_refused(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("database_url: mysql://root@localhost/relais\n")
    with pytest.raises(ConfigError, match="database_url"):
        load_settings(path)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(path)
