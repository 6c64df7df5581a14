"""--attach FILE for `pantau forms check` and `forms load`: the files a form names (choice lists,
media), given on the command line or found beside the form file."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from pathlib import Path

from server.domain.attachments import MAX_BYTES, file_format


class Attached(Mapping[str, bytes]):
    """The files a workbook names, read when the form names one: the CSV, XML or GeoJSON of
    select_one_from_file, the CSV of csv-external. Given with --attach FILE first, else looked for
    in the workbook's folder, as ODK tools do. A file over the readers' limit is passed on cut at
    it, so the import says it is too large rather than that it is missing."""

    def __init__(self, path: str, attached: Mapping[str, Path] | None = None) -> None:
        self.folder = Path(path).resolve().parent
        self.attached = dict(attached or {})

    def __getitem__(self, name: str) -> bytes:
        if "/" in name or "\\" in name:
            raise KeyError(name)
        target = self.attached.get(name, self.folder / name)
        if not target.is_file():
            raise KeyError(name)
        with target.open("rb") as file:
            return file.read(MAX_BYTES + 1)

    def __iter__(self) -> Iterator[str]:
        beside = (p.name for p in self.folder.iterdir() if p.is_file() and file_format(p.name))
        return iter(dict.fromkeys([*self.attached, *beside]))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def attach_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--attach", action="append", default=[], metavar="FILE",
                        help="a CSV, XML or GeoJSON file the form names (select_one_from_file, csv-external), "
                             "or an image, audio or video file its media columns name (forms load), when it is "
                             "not beside the form file; may be given several times")


def attached_files(args: argparse.Namespace) -> dict[str, Path]:
    """--attach FILE... by file name; a file that is not there stops the command (exit 2)."""
    from server.errors import PantauError

    out: dict[str, Path] = {}
    for name in args.attach:
        path = Path(name)
        if not path.is_file():
            raise PantauError("form.file_missing", path=name)
        out[path.name] = path
    return out
