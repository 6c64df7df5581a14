"""`pantau db migrate|status`: bring the schema up to date, or say what is pending."""

from __future__ import annotations

import argparse

from server.cli.common import prepared_settings, with_db
from server.storage import blob_move, blobs, migrate


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="database schema: migrate, status")
    db_sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    m = db_sub.add_parser("migrate", help="apply pending migrations (safe to run again)")
    m.set_defaults(func=_migrate)
    s = db_sub.add_parser("status", help="list applied and pending migrations; exit 1 if any is pending")
    s.set_defaults(func=_status)


def _migrate(args: argparse.Namespace) -> int:
    settings = prepared_settings(seals=False)
    ran = with_db(settings, migrate.migrate)
    if ran:
        for name in ran:
            print(f"migrasi diterapkan / applied: {name}")
    else:
        print("skema sudah terbaru / schema is up to date")
    if blobs.in_database(settings.database_url):
        # PostgreSQL: a node keeps nothing another node needs; files from before move in, checked.
        moved = blob_move.move_files(settings.database_url, settings.data_dir)
        if moved:
            print(f"berkas dipindahkan ke basis data / files moved into the database: {moved}")
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = prepared_settings(seals=False)
    waiting = with_db(settings, migrate.pending)
    for name in migrate.available():
        print(f"{'pending' if name in waiting else 'applied'}  {name}")
    return 1 if waiting else 0
