"""What importing an outbox file holding a 5 MB camera photo costs a real `pantau serve` process in
memory (bench/outbox_memory.py: the kernel's high-water mark of the server process, reset just
before, and its RSS sampled). The file is read from the spooled upload and the photo decoded into the
store a chunk at a time; read whole, as the import did before, the same import cost 23.6 MB."""

from __future__ import annotations

from bench.outbox_memory import measure

LIMIT = 10 * 1024 * 1024  # a node's memory may grow by less than this for a 5 MB photo


def test_an_imported_5_mb_photo_is_never_whole_in_the_servers_memory(database_url: str) -> None:
    figures = measure("sqlite" if database_url.startswith("sqlite") else "postgres")
    assert figures["photo"] > 4.5 * 1024 * 1024 and figures["stored"] == figures["photo"]
    assert figures["rss_growth"] < LIMIT, figures
