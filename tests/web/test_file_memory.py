"""What receiving a 5 MB recording costs a real `pantau serve` process in memory, through the phone's
upload and through ODK Collect's multipart post (bench/file_memory.py: the kernel's high-water mark of
the server process, reset just before). The recording streams to storage a chunk at a time; held
whole (or collected by the input guard, as multipart bodies were) it would cost 10 MB and more."""

from __future__ import annotations

from bench.file_memory import SIZE, measure

LIMIT = 10 * 1024 * 1024  # a node's memory may grow by less than this for a 5 MB file


def test_a_5_mb_recording_is_never_whole_in_the_servers_memory(database_url: str) -> None:
    figures = measure("sqlite" if database_url.startswith("sqlite") else "postgres")
    assert figures["sent"] == SIZE
    assert figures["api_rss_growth"] < LIMIT, figures
    assert figures["collect_rss_growth"] < LIMIT, figures
