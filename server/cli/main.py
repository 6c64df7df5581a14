"""`pantau`: the command line. Each command module registers its subcommand here; a command
returns an exit code. Errors from the catalogue become one readable line on stderr, never a
traceback: 2 for bad usage or settings, 1 for a check that found errors."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from server.errors import PantauError

COMMAND_MODULES = (
    "server.cli.serve",
    "server.cli.db",
    "server.cli.users",
    "server.cli.forms",
    "server.cli.backup",
    "server.cli.keys",
    "server.cli.reports",
    "server.cli.registry",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"pantau: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pantau", description="Pantau: survey and monitoring form server.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except PantauError as exc:
        sys.stderr.write(f"pantau: {exc.message('id')} / {exc.message('en')} [{exc.code}]\n")
        return 2 if exc.status < 100 or exc.status >= 400 else 1
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
