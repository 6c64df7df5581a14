"""The reports' fixture data, written straight into the tables the registry keeps (beneficiary,
beneficiary_event with its summary, follow_up, submission): two kecamatan, visits in 2026-Q1 and
the quarter before, some not yet approved, open follow-ups, children measured, one photo. The
Fixture keeps every value it wrote, so a test computes the expected figures on its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.domain.compile import compile_source
from server.domain.registry import mask
from server.settings import Settings
from server.storage import blobs, forms, pii
from server.storage.attachments import path_of
from server.storage.db import Database
from server.storage.reports import pdf_bytes, pdf_path

REPO = Path(__file__).resolve().parents[2]
TENGGARONG_DESA = ("64.02.06.1001", "64.02.06.1002")
SAMBOJA_DESA = ("64.02.13.1007",)
STATUSES = ("berkembang", "stabil", "menurun", "berhenti_permanen", "belum_mulai", "berhenti_sementara")
CONDITIONS = ("baik_dipakai", "baik_dipakai", "rusak_ringan", "dijual_digadai", "hilang")
ASSESSMENTS = ("mandiri", "berkembang", "intensif", "gagal")
AID_DATES = ("2025-01-10", "2025-08-20", "2025-12-05", "2026-02-10")  # 26, 7, 3 and 1 month(s) before 31 March
MEETINGS = ("ya",) * 6 + ("tidak_di_tempat",)
PETUGAS = {"uji_citra": "Citra Uji", "uji_dewi": "Dewi Uji"}  # Tenggarong, Samboja
HOME = (-0.4123, 116.9856)


def _point(lat: float, lon: float, accuracy: float) -> str:
    return f"{lat:.5f} {lon:.5f} 12 {accuracy:g}"


@dataclass
class Person:
    id: str
    name: str
    nik: str
    area: str
    registered_on: str
    baseline: int
    flags: str = ""
    home: str = ""  # the intake's GPS point ("lat lon alt accuracy"), "" when not recorded
    household: int = 1  # jml_art
    intake: dict[str, Any] = field(default_factory=dict)  # the intake's answers


@dataclass
class VisitRow:
    person: str
    day: str
    approved: bool
    figures: dict[str, Any]
    answers: dict[str, Any] = field(default_factory=dict)  # the visit's own answers (GPS, aid date, photo)
    enumerator: str = ""  # petugas username
    revision: int = 1
    corrected: bool = False  # sent back for correction once
    photo: bool = False


@dataclass
class Fixture:
    people: list[Person] = field(default_factory=list)
    visits: list[VisitRow] = field(default_factory=list)
    follow_ups: list[tuple[str, str, str]] = field(default_factory=list)  # (person, due, closed)
    children: list[tuple[str, str, float]] = field(default_factory=list)  # (person, day, haz)
    referrals: list[tuple[str, str, str]] = field(default_factory=list)  # (person, opened on, actions)
    enumerators: dict[str, str] = field(default_factory=dict)  # username -> display name
    # Probable-duplicate pairs (first person, second person, status): the data-quality table counts the open ones.
    candidates: list[tuple[str, str, str]] = field(default_factory=list)
    photo: str = ""


def _nik(i: int, area: str) -> str:
    return area.replace(".", "")[:6] + f"4101{80 + i % 15:02d}" + f"{1000 + i:04d}"


def build(people_count: int = 60) -> Fixture:
    fx = Fixture(enumerators=dict(PETUGAS))
    for i in range(people_count):
        area = (TENGGARONG_DESA + SAMBOJA_DESA)[i % 3]
        registered = "2026-02-01" if i % 10 == 9 else "2025-09-15"
        home = _point(HOME[0] + 0.001 * i, HOME[1], 8) if i % 8 != 7 else ""
        fx.people.append(
            Person(
                str(uuid.UUID(int=i + 1)),
                f"Penerima {i:03d}",
                _nik(i, area),
                area,
                registered,
                1_000_000 + 10_000 * i,
                flags="nik_ganda" if i in (7, 8) else "nik.sex_mismatch" if i == 11 else "",
                home=home,
                household=1 + i % 5,
                intake={
                    "lokasi": home or None,
                    "jml_art": 1 + i % 5,
                    "no_hp": "081234567890" if i % 2 == 0 else None,
                    "foto_rumah": "rumah.jpg",
                    **({"_konfirmasi": ["nik"]} if i in (11, 19) else {}),
                },
            )
        )
    for i, person in enumerate(fx.people):
        if i % 5 == 4:
            continue  # not visited in the quarter
        met = MEETINGS[i % len(MEETINGS)]
        figures = {
            "bertemu": met,
            "status_usaha": STATUSES[i % len(STATUSES)] if met == "ya" else None,
            "kondisi_alat": CONDITIONS[i % len(CONDITIONS)],
            "pendapatan": person.baseline + 25_000 * (i % 7 - 2),
            "penilaian": ASSESSMENTS[i % len(ASSESSMENTS)],
        }
        # GPS: within 0.5 km of home, or 3 km away (i % 4 == 1); accuracy 20 m, or 80 m (i % 7 == 2).
        lat = HOME[0] + 0.001 * i + (0.027 if i % 4 == 1 else 0.004)
        answers = {
            "lokasi": _point(lat, HOME[1], 80 if i % 7 == 2 else 20),
            "tgl_bantuan": AID_DATES[i // 2 % len(AID_DATES)],
            "foto_alat": "alat.jpg" if i % 3 != 0 else None,
        }
        petugas = "uji_citra" if person.area.startswith("64.02.06") else "uji_dewi"
        # An earlier visit in the quarter whose answers the latest one replaces.
        fx.visits.append(
            VisitRow(person.id, "2026-01-10", True, {**figures, "status_usaha": "berkembang"}, answers, petugas)
        )
        fx.visits.append(  # some still unreviewed, edited, sent back once, with a photo
            VisitRow(
                person.id,
                "2026-03-05",
                i % 8 != 3,
                figures,
                answers,
                petugas,
                revision=2 if i % 7 == 0 else 1,
                corrected=i % 9 == 0,
                photo=i % 4 != 1,
            )
        )
        if i % 4 == 0:  # the quarter before
            fx.visits.append(
                VisitRow(person.id, "2025-11-20", True, {**figures, "status_usaha": "stabil"}, answers, petugas)
            )
    for i, person in enumerate(fx.people[:12]):
        due = ("2026-03-28", "2026-03-10", "2026-01-15")[i % 3]
        fx.follow_ups.append((person.id, due, "2026-03-20" if i % 6 == 5 else ""))
    for n, i in enumerate(range(1, 30, 2)):  # referrals to other aid opened in the quarter (one before it)
        actions = ("rujukan_bansos", "rujukan_atensi", "rujukan_bansos rujukan_atensi")[n % 3]
        fx.referrals.append((fx.people[i].id, "2026-02-20" if n else "2025-12-01", actions))
    for i in range(45):
        person = fx.people[(i * 3) % len(fx.people)] if i < 35 else fx.people[2 + 3 * (i - 35)]
        fx.children.append((person.id, "2026-02-14", -3.1 + 0.1 * i))
    who = [p.id for p in fx.people]
    fx.candidates = [(who[0], who[3], "open"), (who[1], who[4], "open"), (who[2], who[5], "different"),
                     (who[6], who[9], "open")]
    return fx


async def write(db: Database, settings: Settings, fx: Fixture) -> None:
    versions = {}
    for name in ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak"):
        source = (REPO / "forms" / f"{name}.yaml").read_bytes()
        compiled = compile_source(source, f"{name}.yaml").compiled
        assert compiled is not None
        await forms.publish(db, compiled, source, f"{name}.yaml")
        rows = await db.fetch("SELECT v.id FROM form_version v JOIN form f ON f.id = v.form WHERE f.form_id = {}", name)
        versions[name] = rows[-1]["id"]
    keys = pii.keys_of(settings)
    now = dt.datetime(2026, 4, 2, tzinfo=dt.UTC)
    users = {}
    for username, display in fx.enumerators.items():
        rows = await db.fetch(
            "INSERT INTO pantau_user (username, display_name, password_hash, role, created_at) "
            "VALUES ({}, {}, 'x', 'enumerator', {}) RETURNING id",
            username,
            display,
            now,
        )
        users[username] = rows[0]["id"]
    fx.photo = await _photo(db, settings, now)
    for p in fx.people:
        await db.fetch(
            "INSERT INTO beneficiary (id, programme, nik_index, nik_sealed, nik_masked, name, name_key, sex, "
            "birth_date, area_code, kecamatan, target_group, baseline, registered_on, visit_months, created_at, "
            "updated_at, flags) VALUES ({}, 'bansos', {}, {}, {}, {}, {}, 'P', '1985-01-01', {}, {}, 'prse', {}, {}, "
            "3, {}, {}, {})",
            uuid.UUID(p.id),
            pii.blind_index(keys, "nik", p.nik),
            pii.seal(keys, "nik", p.nik),
            mask(p.nik),
            p.name,
            p.name.lower(),
            p.area,
            p.area[:8],
            json.dumps([{"key": "pendapatan", "value": p.baseline}]),
            p.registered_on,
            now,
            now,
            p.flags,
        )
        # The intake that registered the person: its id is the person's (home GPS, household size).
        await _submission(db, versions["registrasi_penerima"], "registrasi_penerima", p.area, True, now, p.intake, p.id)
        await _event(db, p.id, uuid.UUID(p.id), "registrasi_penerima", "intake", p.registered_on, {"figures": []}, now)
    area = {p.id: p.area for p in fx.people}
    for first, second, status in fx.candidates:
        await db.fetch(
            "INSERT INTO duplicate_candidate (programme, first_id, second_id, first_area, second_area, score, levels, "
            "status, found_at) VALUES ('bansos', {}, {}, {}, {}, 12.5, {}, {}, {})",
            uuid.UUID(first), uuid.UUID(second), area[first], area[second], '{"name": "close"}', status, now)
    for v in fx.visits:
        sid = await _submission(
            db,
            versions["monev_uep"],
            "monev_uep",
            area[v.person],
            v.approved,
            now,
            v.answers,
            None,
            users.get(v.enumerator),
            v.revision,
        )
        summary = {"figures": [{"key": k, "value": value} for k, value in v.figures.items() if value is not None]}
        await _event(db, v.person, sid, "monev_uep", "visit", v.day, summary, now)
        if v.photo:  # one stored photo, attached to many visits: the appendix shows it once
            await db.fetch("INSERT INTO submission_attachment (submission, sha256) VALUES ({}, {})", sid, fx.photo)
        if v.corrected:  # sent back on the day of the visit, 10:00 WITA; the count is of the period's
            await db.fetch(
                "INSERT INTO review_event (submission, revision, from_status, to_status, comment, at) "
                "VALUES ({}, 1, 'received', 'needs_correction', 'GPS', {})",
                sid,
                dt.datetime.fromisoformat(v.day + "T02:00:00+00:00"),
            )
    for person, opened, actions in fx.referrals:
        sid = await _submission(db, versions["monev_uep"], "monev_uep", area[person], True, now)
        await db.fetch(
            "INSERT INTO follow_up (beneficiary, submission, form_id, actions, detail, opened_on, due_on) "
            "VALUES ({}, {}, 'monev_uep', {}, {}, {}, '2026-06-30')",
            uuid.UUID(person),
            sid,
            actions,
            "{}",
            opened,
        )
    for person, due, closed in fx.follow_ups:
        sid = await _submission(db, versions["monev_uep"], "monev_uep", area[person], True, now)
        await _event(db, person, sid, "monev_uep", "visit", "2025-12-20", {"figures": []}, now)
        await db.fetch(
            "INSERT INTO follow_up (beneficiary, submission, form_id, actions, detail, opened_on, due_on, "
            "closed_on) VALUES ({}, {}, 'monev_uep', 'perbaikan_alat', {}, '2025-12-20', {}, {})",
            uuid.UUID(person),
            sid,
            "{}",
            due,
            closed,
        )
    for n, (person, day, haz) in enumerate(fx.children):
        sid = await _submission(db, versions["cek_tumbuh_anak"], "cek_tumbuh_anak", area[person], True, now)
        summary = {
            "figures": [],
            "child": f"Anak {n}",
            "growth": {
                "age_days": 400,
                "haz": round(haz, 2),
                "waz": -1.0,
                "whz": -0.5,
                "implausible": [],
                "too_old": False,
            },
        }
        await _event(db, person, sid, "cek_tumbuh_anak", "growth", day, summary, now)


async def _submission(
    db: Database,
    version: int,
    form_id: str,
    area: str,
    approved: bool,
    now: dt.datetime,
    answers: dict[str, Any] | None = None,
    instance_id: str | None = None,
    enumerator: int | None = None,
    revision: int = 1,
) -> uuid.UUID:
    sid = uuid.UUID(instance_id) if instance_id else uuid.uuid4()
    await db.fetch(
        "INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, revision, "
        "review_status, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        sid,
        version,
        form_id,
        enumerator,
        area,
        "0" * 64,
        json.dumps({k: v for k, v in (answers or {}).items() if v is not None}),
        revision,
        "approved" if approved else "received",
        now,
    )
    return sid


async def _event(
    db: Database,
    person: str,
    sid: uuid.UUID,
    form_id: str,
    kind: str,
    day: str,
    summary: dict[str, Any],
    now: dt.datetime,
) -> None:
    await db.fetch(
        "INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, "
        "recorded_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
        uuid.UUID(person),
        sid,
        form_id,
        kind,
        day,
        json.dumps(summary),
        now,
    )


def pdf_copy(settings: Settings, sha256: str) -> Path:
    """An edition as a file to read with pypdf or pdftoppm: its own file on SQLite, a copy of the
    database's blob on PostgreSQL."""
    if not blobs.in_database(settings.database_url):
        return pdf_path(settings.data_dir, sha256)
    copy = Path(settings.data_dir) / "from-database" / f"{sha256}.pdf"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(pdf_bytes(settings.data_dir, sha256, settings.database_url))
    return copy


async def _photo(db: Database, settings: Settings, now: dt.datetime) -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    data = out.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    if blobs.in_database(settings.database_url):
        await blobs.put_bytes(db, data, key=sha)
    else:
        path = path_of(settings.data_dir, sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    await db.fetch(
        "INSERT INTO attachment (sha256, size, content_type, uploaded_at) VALUES ({}, {}, 'image/jpeg', {})",
        sha,
        len(data),
        now,
    )
    return sha


def seed(settings: Settings, fx: Fixture | None = None) -> Fixture:
    fx = fx or build()

    async def run() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await write(db, settings, fx)
        finally:
            await db.close()

    asyncio.run(run())
    return fx


def module_settings(base: Path, sqlite_template: Path | None) -> Settings:
    """A migrated database of its own for one test module's report (the test's PostgreSQL, emptied,
    or a copy of the migrated SQLite template), with its data folder under `base`."""
    import shutil

    from tests.conftest import ON_POSTGRES, PG_URL, _migrated, _run

    if ON_POSTGRES:
        _run(_migrated(PG_URL))
        url = PG_URL
    else:
        assert sqlite_template is not None
        url = f"sqlite:///{base / 'pantau.sqlite3'}"
        shutil.copyfile(sqlite_template, base / "pantau.sqlite3")
    settings = Settings(database_url=url, data_dir=str(base / "data"), secret_key="k" * 48, log_level="WARNING")

    async def check() -> None:
        from server.storage import migrate

        db = Database(url)
        await db.open()
        try:
            assert not await migrate.pending(db)
        finally:
            await db.close()

    asyncio.run(check())
    return settings
