"""Which store the settings name: the environment, else ``.streamlit/secrets.toml``, else the embedded default."""

import pytest

from minqing.config import DEFAULT_DATABASE_URL, ENV_KEY, database_url
from minqing.errors import ConfigError

PG = "postgresql://minqing_app:pw@db.example:5432/minqing"


@pytest.fixture
def secrets(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KEY, raising=False)
    return tmp_path / "secrets.toml"


@pytest.mark.parametrize("text", [f'{ENV_KEY} = "{PG}"\n', f'[database]\nurl = "{PG}"\n'])
def test_the_secrets_file_names_the_store(secrets, text):
    secrets.write_text(text, encoding="utf-8")
    assert database_url(secrets) == PG


def test_the_top_level_key_wins_over_the_table_and_the_environment_over_both(secrets, monkeypatch):
    secrets.write_text(f'{ENV_KEY} = "{PG}"\n[database]\nurl = "sqlite:///other.sqlite"\n', encoding="utf-8")
    assert database_url(secrets) == PG
    monkeypatch.setenv(ENV_KEY, "sqlite:///env.sqlite")
    assert database_url(secrets) == "sqlite:///env.sqlite"


def test_no_setting_is_the_embedded_default_and_a_bad_file_is_a_config_error(secrets):
    assert database_url(secrets) == DEFAULT_DATABASE_URL
    secrets.write_text("[database\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        database_url(secrets)
