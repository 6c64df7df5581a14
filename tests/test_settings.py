"""Settings: defaults, one clear error per bad variable, the secret key file, and the README table."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.settings import VARIABLES, Settings, SettingsError, ensure_secret_key, load_settings

REPO = Path(__file__).resolve().parents[1]


def test_defaults_use_the_embedded_sqlite_database() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///var/pantau.sqlite3"
    assert settings.is_sqlite and str(settings.sqlite_path) == "var/pantau.sqlite3"
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "INFO")


def test_values_are_read_and_converted() -> None:
    settings = load_settings({"PANTAU_PORT": "9001", "PANTAU_LOG_LEVEL": "debug", "PANTAU_HTTPS": "true",
                              "PANTAU_DATABASE_URL": "postgresql://pantau@db:5432/pantau"})
    assert (settings.port, settings.log_level, settings.https) == (9001, "DEBUG", True)
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PANTAU_PORT", "delapan ribu"),
        ("PANTAU_PORT", "70000"),
        ("PANTAU_DATABASE_URL", "mysql://x"),
        ("PANTAU_DATABASE_URL", "sqlite:///"),
        ("PANTAU_LOG_LEVEL", "LOUD"),
        ("PANTAU_SECRET_KEY", "short"),
        ("PANTAU_HTTPS", "maybe"),
        ("PANTAU_SESSION_DAYS", "0"),
        ("PANTAU_ADMIN_PASSWORD", "123"),
        ("PANTAU_HOST", " "),
        ("PANTAU_DATABASE_REPLICA_URL", "sqlite:///var/copy.sqlite3"),
        ("PANTAU_REPLICA_MAX_LAG", "0"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})
    assert caught.value.code == "settings.invalid"
    assert variable in caught.value.message("id") and variable in caught.value.message("en")


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        load_settings({}).port = 1  # type: ignore[misc]


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    first = ensure_secret_key(settings)
    key_file = tmp_path / "data" / "secret_key"
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert ensure_secret_key(settings).secret_key == first.secret_key
    given = Settings(data_dir=str(tmp_path / "other"), secret_key="g" * 40)
    assert ensure_secret_key(given).secret_key == "g" * 40
    assert not (tmp_path / "other" / "secret_key").exists()


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [name for name in VARIABLES if f"`{name}`" not in readme]
    assert missing == [], f"README settings table lacks {missing}"


def test_only_settings_reads_the_environment() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "server").rglob("*.py")
        if path.name != "settings.py" and ("os.environ" in (text := path.read_text()) or "getenv(" in text)
    ]
    assert offenders == []
