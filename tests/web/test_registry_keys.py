"""The registry key: `pantau keys check` and `pantau serve` refuse a PANTAU_NIK_KEY that
does not open the stored NIKs, and `pantau keys rotate` moves every sealed NIK/KK (the registry's
and the stored answers') and the registry's blind indexes to the new key, all or nothing, and can
run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server.settings import Settings
from server.storage import pii
from tests.cli.test_cli_foundation import assert_clean_failure, pantau
from tests.web.test_registry import SITI_NIK, fetch, registered, shipped  # noqa: F401 - fixture

SECRET, NEW, OTHER = "k" * 48, "n" * 48, "x" * 48  # tests/conftest.py's settings use SECRET


def _sealed(settings: Settings) -> list[dict[str, Any]]:
    return [*fetch(settings, "SELECT nik_index AS idx, nik_sealed AS sealed, 'nik' AS kind FROM beneficiary"),
            *fetch(settings, "SELECT kk_index AS idx, kk_sealed AS sealed, 'kk' AS kind FROM beneficiary"),
            *[{"idx": None, "sealed": sealed, "kind": kind} for row in fetch(settings, "SELECT sealed FROM submission")
              for _path, (kind, sealed) in sorted(pii.held_answers(row["sealed"]).items())]]


def test_a_wrong_key_is_refused_and_a_rotation_moves_everything_to_the_new_key(  # type: ignore[no-untyped-def]
        as_, shipped, settings, tmp_path: Path) -> None:  # noqa: F811
    siti = registered(as_("citra"))
    before = _sealed(settings)
    assert len(before) == 4  # the beneficiary's NIK and KK, and the intake's NIK and KK answers
    env = {"PANTAU_DATABASE_URL": settings.database_url, "PANTAU_DATA_DIR": str(tmp_path / "data"),
           "PANTAU_SECRET_KEY": SECRET, "PANTAU_PORT": "1"}

    ok = pantau("keys", "check", env=env, cwd=tmp_path)
    assert ok.returncode == 0 and "ok: key" in ok.stdout, ok.stderr
    wrong = {**env, "PANTAU_NIK_KEY": NEW}  # the new key is set before the data were moved to it
    assert_clean_failure(pantau("keys", "check", env=wrong, cwd=tmp_path), "keys.wrong_key")
    assert_clean_failure(pantau("serve", env=wrong, cwd=tmp_path), "keys.wrong_key")  # before it binds a port

    # A wrong old key: nothing changes.
    failed = pantau("keys", "rotate", "--old-key-env", "OLD", env={**wrong, "OLD": OTHER}, cwd=tmp_path)
    assert_clean_failure(failed, "keys.rotate_failed")
    assert _sealed(settings) == before
    assert_clean_failure(pantau("keys", "rotate", "--old-key-env", "OLD", env=wrong, cwd=tmp_path),
                         "keys.no_old_key")

    rotated = pantau("keys", "rotate", "--old-key-env", "OLD", env={**wrong, "OLD": SECRET}, cwd=tmp_path)
    assert rotated.returncode == 0 and "rotated 4 values" in rotated.stdout, rotated.stderr
    new = pii.keys_from(NEW)
    for row in _sealed(settings):
        kind = "kk" if row["kind"] == "kk" else "nik"
        digits = pii.open_sealed(new, kind, row["sealed"])
        assert row["idx"] in (None, pii.blind_index(new, kind, digits))  # a submission keeps no blind index
    assert pii.open_sealed(new, "nik", _sealed(settings)[0]["sealed"]) == SITI_NIK
    assert pantau("keys", "check", env=wrong, cwd=tmp_path).returncode == 0
    again = pantau("keys", "rotate", "--old-key-env", "OLD", env={**wrong, "OLD": SECRET}, cwd=tmp_path)
    assert again.returncode == 0 and "rotated 0 values" in again.stdout and "4 already" in again.stdout
    assert as_("citra").get(f"/api/v1/penerima/{siti}").status_code == 200
