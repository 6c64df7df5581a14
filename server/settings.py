"""Settings: one frozen Struct built from the environment. This module is the only reader of
os.environ, so every knob Pantau has is listed here (and in README's table, which a test checks).
A bad value raises SettingsError naming the variable; the CLI turns it into one line and exit 2."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from server.errors import PantauError
from server.private_files import private_dir

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = "sqlite:///var/pantau.sqlite3"
    # PostgreSQL: a hot standby for the heavy reads (storage/replica.py), and the lag it may have.
    database_replica_url: str = ""
    replica_max_lag: int = 60
    data_dir: str = "var"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    admin_password: str = ""
    session_days: int = 30
    # Hours an import job (its uploaded list and its check) is kept before it is swept away.
    import_job_hours: int = 24
    max_attachment_bytes: int = 5 * 1024 * 1024
    # Largest image, audio or video file a form's media columns may name (domain/form_media.py).
    max_form_media_bytes: int = 8 * 1024 * 1024
    max_file_bytes: int = 20 * 1024 * 1024
    https: bool = False
    bench_routes: bool = False
    # The registry's master key for NIK/KK sealing and blind indexes; "" = derived from secret_key.
    nik_key: str = ""
    # Reports: names queued after each period closes; seconds before a render is killed.
    report_schedule: str = ""
    report_time_limit: int = 600
    report_poll: int = 60
    report_attempts: int = 3
    # HTTP worker processes of `pantau serve`; 0 = one per CPU core.
    workers: int = 1
    # PostgreSQL: connections each process's read pool may open; 0 = fit (`pantau serve` works it out).
    db_pool_size: int = 0
    # Proxies whose X-Forwarded-For is believed (addresses or CIDRs, normalised); none by default.
    trusted_proxies: tuple[str, ...] = ()
    # Seconds a request may wait for a database connection, and for a statement or (SQLite) a lock,
    # before it is answered 503; the report worker's reads may take PANTAU_REPORT_TIME_LIMIT.
    db_connect_timeout: int = 5
    db_statement_timeout: int = 30
    # Seconds a client may take to send a request's headers, and then its body (slow clients).
    client_header_timeout: int = 20
    client_body_timeout: int = 120
    # Seconds between two background scans of one home page's figures (a stream of writes).
    dashboard_rescan_s: int = 60

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        return sqlite_path(self.database_url)


# variable -> (field, parser, description). The README table is checked against this.
def _int(lo: int, hi: int):  # type: ignore[no-untyped-def]
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"harus bilangan bulat / must be an integer, got {raw!r}") from None
        if not lo <= value <= hi:
            raise ValueError(f"harus antara {lo} dan {hi} / must be between {lo} and {hi}")
        return value

    return parse


def _database_url(raw: str) -> str:
    if raw.startswith("sqlite:///") and len(raw) > len("sqlite:///"):
        return raw
    if raw.startswith(("postgresql://", "postgres://")):
        return raw
    raise ValueError("gunakan / use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")


def _replica_url(raw: str) -> str:
    if raw.startswith(("postgresql://", "postgres://")):
        return raw
    raise ValueError("gunakan / use postgresql://USER@HOST:PORT/DB (a PostgreSQL hot standby)")


def _log_level(raw: str) -> str:
    if raw.upper() not in LOG_LEVELS:
        raise ValueError(f"pilih / choose one of {', '.join(LOG_LEVELS)}")
    return raw.upper()


def _bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "ya"):
        return True
    if raw.lower() in ("0", "false", "no", "tidak", ""):
        return False
    raise ValueError("gunakan / use true or false")


def _networks(raw: str) -> tuple[str, ...]:
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item)))
        except ValueError as exc:
            raise ValueError(f"{item!r}: {exc}; gunakan / use addresses or CIDRs, e.g. 10.0.0.5,10.1.0.0/16") from None
    return tuple(networks)


def _nonempty(raw: str) -> str:
    if not raw.strip():
        raise ValueError("tidak boleh kosong / must not be empty")
    return raw


def _secret(raw: str) -> str:
    if len(raw) < 32:
        raise ValueError("minimal 32 karakter / at least 32 characters")
    return raw


def _password(raw: str) -> str:
    if len(raw) < 10:
        raise ValueError("minimal 10 karakter / at least 10 characters")
    return raw


VARIABLES: dict[str, tuple[str, Any, str]] = {
    "PANTAU_DATABASE_URL": (
        "database_url", _database_url,
        "`sqlite:///var/pantau.sqlite3` (embedded, default) or `postgresql://user@host:5432/db`",
    ),
    "PANTAU_DATABASE_REPLICA_URL": (
        "database_replica_url", _replica_url,
        "PostgreSQL only, optional: a streaming hot standby (`postgresql://user@replica:5432/db`) for exports, "
        "report data, dashboards and registry searches; unset = everything reads the primary",
    ),
    "PANTAU_REPLICA_MAX_LAG": (
        "replica_max_lag", _int(1, 3600),
        "seconds the standby may lag before those reads go to the primary (`60`); the log says so once a minute",
    ),
    "PANTAU_DATA_DIR": ("data_dir", _nonempty, "folder for the secret key, attachments and reports (`var`)"),
    "PANTAU_SECRET_KEY": (
        "secret_key", _secret,
        "signs sessions and keys NIK hashes; generated into `DATA_DIR/secret_key` (mode 0600) when unset",
    ),
    "PANTAU_HOST": ("host", _nonempty, "address to listen on (`127.0.0.1`)"),
    "PANTAU_PORT": ("port", _int(1, 65535), "port to listen on (`8000`)"),
    "PANTAU_LOG_LEVEL": ("log_level", _log_level, "DEBUG, INFO (default), WARNING or ERROR"),
    "PANTAU_ADMIN_PASSWORD": (
        "admin_password", _password,
        "password of the first `admin` account; generated and printed once when unset",
    ),
    "PANTAU_SESSION_DAYS": ("session_days", _int(1, 365), "how long a sign-in lasts, in days (`30`)"),
    "PANTAU_IMPORT_JOB_HOURS": (
        "import_job_hours", _int(1, 720),
        "hours a registry import's uploaded list and its check are kept, then removed with their files (`24`)",
    ),
    "PANTAU_MAX_ATTACHMENT_BYTES": (
        "max_attachment_bytes", _int(1024, 100 * 1024 * 1024), "largest photo accepted, in bytes (5 MB)",
    ),
    "PANTAU_MAX_FORM_MEDIA_BYTES": (
        "max_form_media_bytes", _int(1024, 64 * 1024 * 1024),
        "largest image, audio or video file a form's media columns name, in bytes (8 MB)",
    ),
    "PANTAU_MAX_FILE_BYTES": (
        "max_file_bytes", _int(1024, 100 * 1024 * 1024),
        "largest recording or file an audio, video or file question accepts, in bytes (20 MB)",
    ),
    "PANTAU_HTTPS": ("https", _bool, "`true` behind an HTTPS proxy: cookies get the Secure flag"),
    "PANTAU_TRUSTED_PROXIES": (
        "trusted_proxies", _networks,
        "reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client; none by default",
    ),
    "PANTAU_BENCH_ROUTES": (
        "bench_routes", _bool, "`true` adds the no-op POST /api/v1/bench/noop that bench/submit_load.py compares with, "
        "and the stages bench/submit_cost.py measures (/api/v1/bench/signed_in, /api/v1/bench/validated)",
    ),
    "PANTAU_NIK_KEY": (
        "nik_key", _secret,
        "master key for sealing NIK/No. KK and their blind indexes; derived from PANTAU_SECRET_KEY when unset",
    ),
    "PANTAU_REPORT_SCHEDULE": (
        "report_schedule", str,
        "report names (comma-separated, e.g. `monev_triwulan`) made for the kabupaten after each period closes",
    ),
    "PANTAU_REPORT_TIME_LIMIT": (
        "report_time_limit", _int(1, 3600), "seconds a report PDF may take before it is stopped and failed (`600`)",
    ),
    "PANTAU_REPORT_POLL": (
        "report_poll", _int(1, 3600),
        "seconds between a server process's looks at the report queue and the schedule (`60`)",
    ),
    "PANTAU_REPORT_ATTEMPTS": (
        "report_attempts", _int(1, 100),
        "times a report run's process may die while making it (its lease runs out) before the run is failed "
        "instead of queued again (`3`)",
    ),
    "PANTAU_WORKERS": (
        "workers", _int(0, 64), "HTTP worker processes of `pantau serve` (`1`; `0` = one per CPU core)",
    ),
    "PANTAU_DB_POOL_SIZE": (
        "db_pool_size", _int(0, 100),
        "PostgreSQL: read connections per server process (`0` = up to 10, fewer when the processes would "
        "need more than the server's max_connections)",
    ),
    "PANTAU_DB_CONNECT_TIMEOUT": (
        "db_connect_timeout", _int(1, 300),
        "seconds to wait for a new database connection before the request is answered 503 (`5`)",
    ),
    "PANTAU_DB_STATEMENT_TIMEOUT": (
        "db_statement_timeout", _int(1, 3600),
        "seconds a database statement (SQLite: the wait for a lock) may take before the request is answered "
        "503 (`30`); the report worker's reads may take PANTAU_REPORT_TIME_LIMIT",
    ),
    "PANTAU_CLIENT_HEADER_TIMEOUT": (
        "client_header_timeout", _int(1, 600),
        "seconds a client may take to send a request's headers; then it gets 408 and the connection is closed (`20`)",
    ),
    "PANTAU_CLIENT_BODY_TIMEOUT": (
        "client_body_timeout", _int(1, 3600),
        "seconds a client may take to send a request's body after its headers (a photo on 2G included; `120`)",
    ),
    "PANTAU_DASHBOARD_RESCAN_S": (
        "dashboard_rescan_s", _int(0, 3600),
        "seconds at least between two background scans of one home page's figures after writes (`60`): "
        "meanwhile the page shows the last figures, stamped with their time",
    ),
}


class SettingsError(PantauError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__("settings.invalid", name=name, reason=reason)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for var, (field, parse, _doc) in VARIABLES.items():
        raw = env.get(var)
        if raw is None:
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            raise SettingsError(var, str(exc)) from None
    return Settings(**values)


def hand_down(variable: str, value: str) -> None:
    """A setting `pantau serve` worked out for the worker processes it starts, which read their
    settings from the environment they inherit (PANTAU_DB_POOL_SIZE)."""
    if variable not in VARIABLES:
        raise KeyError(variable)
    os.environ[variable] = value


def sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///"):])


def require_shared_secret_key(settings: Settings) -> None:
    """On PostgreSQL several nodes serve one database: each must sign sessions and seal NIKs with the
    same key, so a node never makes its own there; the operator sets PANTAU_SECRET_KEY on every node."""
    if settings.secret_key or settings.is_sqlite:
        return
    made = Path(settings.data_dir) / "secret_key"
    earlier = f"; {made} holds the key this machine made before: put its content there" if made.exists() else ""
    raise SettingsError("PANTAU_SECRET_KEY",
                        "required on PostgreSQL, the same on every node (`openssl rand -base64 48`): "
                        "a key made by one node would not open the sessions and NIK seals of the others" + earlier)


def ensure_secret_key(settings: Settings) -> Settings:
    """Fill secret_key from DATA_DIR/secret_key, creating it (0600) on first run."""
    if settings.secret_key:
        return settings
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise SettingsError("PANTAU_SECRET_KEY", f"{path} is damaged (too short); delete it to regenerate")
    else:
        private_dir(path.parent)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
    return msgspec.structs.replace(settings, secret_key=key)


def secret_from_env(variable: str) -> str | None:
    """A one-off secret a command was told to read from the environment (`--password-env VAR`)."""
    return os.environ.get(variable)
