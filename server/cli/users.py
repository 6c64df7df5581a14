"""`pantau users add|list|set-role|deactivate|unlock|ensure-admin`: accounts from the command line.
Passwords come from a prompt, or from an environment variable named with --password-env (for
scripts); never from an argument, which would land in shell history and `ps`."""

from __future__ import annotations

import argparse
import getpass
import sys

from server.cli.common import prepared_settings, with_db
from server.domain import users as rules
from server.domain.access import ROLES
from server.errors import PantauError
from server.settings import secret_from_env
from server.storage import audit, logins, users


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("users", help="user accounts: add, list, set-role, deactivate, unlock, ensure-admin")
    u = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = u.add_parser("add", help="create a user (password from a prompt or --password-env)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--areas", default="", help="Kemendagri area codes, comma separated (64.02.06,64.02.13)")
    add.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    add.set_defaults(func=_add)
    ls = u.add_parser("list", help="list users")
    ls.set_defaults(func=_list)
    sr = u.add_parser("set-role", help="change a user's role and areas")
    sr.add_argument("username")
    sr.add_argument("role", choices=ROLES)
    sr.add_argument("--areas", default="", help="Kemendagri area codes, comma separated (replaces the old ones)")
    sr.set_defaults(func=_set_role)
    de = u.add_parser("deactivate", help="deactivate a user; their sessions end at once")
    de.add_argument("username")
    de.set_defaults(func=_deactivate)
    ul = u.add_parser("unlock", help="lift the sign-in lock that failed attempts put on a user")
    ul.add_argument("username")
    ul.set_defaults(func=_unlock)
    ea = u.add_parser("ensure-admin", help="create the first admin if none exists (PANTAU_ADMIN_PASSWORD)")
    ea.set_defaults(func=_ensure_admin)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_env:
        value = secret_from_env(args.password_env)
        if value is None:
            raise PantauError("http.bad_request", detail=f"environment variable {args.password_env} is not set")
        return value
    if not sys.stdin.isatty():
        raise PantauError("http.bad_request", detail="no terminal for a password prompt: use --password-env VAR")
    first = getpass.getpass("Kata sandi / Password: ")
    if first != getpass.getpass("Ulangi / Repeat: "):
        raise PantauError("http.bad_request", detail="the two passwords differ")
    return first


def _areas(raw: str) -> tuple[str, ...]:
    return tuple(rules.check_area(code) for code in raw.replace(";", ",").split(",") if code.strip())


async def _existing(db, username: str):  # type: ignore[no-untyped-def]
    account = await users.get(db, username)
    if account is None:
        raise PantauError("user.not_found", username=username)
    return account


def _add(args: argparse.Namespace) -> int:
    username = rules.check_username(args.username)
    areas = _areas(args.areas)
    password_hash = rules.hash_password(_read_password(args))
    settings = prepared_settings(seals=False)

    async def work(db):  # type: ignore[no-untyped-def]
        account = await users.create(db, username, args.role, password_hash, args.name, areas)
        await audit.record(db, None, "user.create", actor_name="cli", target_type="user",
                           target_id=str(account.id), detail=f"role={account.role}")
        return account

    account = with_db(settings, work)
    print(f"pengguna dibuat / user created: {account.username} ({account.role})")
    return 0


def _list(args: argparse.Namespace) -> int:
    for a in with_db(prepared_settings(seals=False), users.list_all):
        print(f"{a.username:24} {a.role:12} {'aktif' if a.active else 'nonaktif':9} {','.join(a.areas)}")
    return 0


def _set_role(args: argparse.Namespace) -> int:
    areas = _areas(args.areas)

    async def work(db):  # type: ignore[no-untyped-def]
        account = await _existing(db, args.username)
        if account.role == "admin" and args.role != "admin" and await users.active_admins(db) <= 1:
            raise PantauError("user.last_admin")
        await users.set_role(db, account.id, args.role, areas)
        await audit.record(db, None, "user.role", actor_name="cli", target_type="user", target_id=str(account.id),
                           detail=f"{account.role}->{args.role} areas={' '.join(areas)}")

    with_db(prepared_settings(seals=False), work)
    print(f"{args.username}: {args.role} {','.join(areas)}")
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    async def work(db):  # type: ignore[no-untyped-def]
        account = await _existing(db, args.username)
        if account.role == "admin" and await users.active_admins(db) <= 1:
            raise PantauError("user.last_admin")
        await users.set_active(db, account.id, False)
        await audit.record(db, None, "user.deactivate", actor_name="cli", target_type="user",
                           target_id=str(account.id))

    with_db(prepared_settings(seals=False), work)
    print(f"{args.username}: nonaktif / deactivated")
    return 0


def _unlock(args: argparse.Namespace) -> int:
    async def work(db):  # type: ignore[no-untyped-def]
        account = await _existing(db, args.username)
        forgotten = await logins.unlock(db, account.username)
        await audit.record(db, None, "user.unlock", actor_name="cli", target_type="user",
                           target_id=str(account.id), detail=f"failures={forgotten}")
        return forgotten

    forgotten = with_db(prepared_settings(seals=False), work)
    print(f"{args.username}: kunci masuk dibuka / sign-in unlocked ({forgotten} percobaan gagal / failed attempts)")
    return 0


def _ensure_admin(args: argparse.Namespace) -> int:
    settings = prepared_settings(seals=False)

    async def work(db):  # type: ignore[no-untyped-def]
        if await users.active_admin_exists(db):
            return None
        password = settings.admin_password or rules.generate_password()
        await users.create(db, "admin", "admin", rules.hash_password(password), "Administrator")
        return password

    password = with_db(settings, work)
    if password is None:
        print("akun admin sudah ada / an admin account exists")
    elif settings.admin_password:
        print("akun admin dibuat dengan PANTAU_ADMIN_PASSWORD / admin created with PANTAU_ADMIN_PASSWORD")
    else:
        print("akun admin dibuat / admin account created")
        print(f"  nama pengguna / username: admin\n  kata sandi / password: {password}")
        print("  Simpan sekarang: kata sandi ini tidak ditampilkan lagi. / Save it now: it is not shown again.")
    return 0
