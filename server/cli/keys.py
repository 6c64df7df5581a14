"""`pantau keys check | rotate`: whether PANTAU_NIK_KEY opens the stored NIK and No. KK values
(serve checks the same before it starts), and moving them to a new key in one transaction. Stop
the server before a rotation: an intake sealed with the old key during it would be left behind
(the check at the next start-up says so)."""

from __future__ import annotations

import argparse

from server.cli.common import prepared_settings, with_db
from server.errors import PantauError
from server.settings import secret_from_env
from server.storage import keyring, pii
from server.storage.db import Database
from server.storage.writer import Writer

MIN_KEY = 32


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keys", help="check or rotate the registry key (PANTAU_NIK_KEY)")
    keys_sub = p.add_subparsers(dest="keys_command", metavar="ACTION")
    keys_sub.required = True
    check = keys_sub.add_parser("check", help="does the configured key open the stored NIK/KK values?")
    check.set_defaults(func=_check)
    rotate = keys_sub.add_parser(
        "rotate", help="re-seal every NIK/KK from the old key to the configured one (all or nothing)",
        description="Stop the server first. The new key is the configured one (PANTAU_NIK_KEY, else "
                    "PANTAU_SECRET_KEY); the old key is read from the variable named by --old-key-env.")
    rotate.add_argument("--old-key-env", required=True, metavar="VAR",
                        help="environment variable holding the old key, e.g. PANTAU_OLD_NIK_KEY")
    rotate.set_defaults(func=_rotate)


def _check(args: argparse.Namespace) -> int:
    settings = prepared_settings()
    found = with_db(settings, lambda db: keyring.refuse_wrong_key(db, pii.keys_of(settings)))
    print(f"ok: key {found.fingerprint} opens {found.tried} of {found.tried} sampled values "
          f"({found.sealed} sealed values stored)")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    settings = prepared_settings()
    old_master = secret_from_env(args.old_key_env) or ""
    if len(old_master) < MIN_KEY:
        raise PantauError("keys.no_old_key", name=args.old_key_env)
    old, new = pii.keys_from(old_master), pii.keys_of(settings)

    async def work(db: Database) -> keyring.Rotated:
        writer = Writer(db)  # one transaction: the writer's, which commits it or rolls it all back
        try:
            return await writer.run(lambda tx: keyring.rotate(tx, old, new))
        finally:
            await writer.stop()

    done = with_db(settings, work)
    print(f"rotated {done.values} values from key {old.fingerprint} to {new.fingerprint} "
          f"({done.already} already under the new key)")
    return 0
