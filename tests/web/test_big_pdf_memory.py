"""What archiving and serving a photo-heavy report edition costs a node in memory (bench/big_pdf.py,
at 12 MB here, 50 MB in the bench): the worker's archiving (storage/reports.store_pdf_file) in a
fresh process and the download from a real `pantau serve`, each measured by the kernel's high-water
mark, reset just before, and sampled RSS. Either one read whole would cost the edition's 12 MB."""

from __future__ import annotations

from bench.big_pdf import MB, measure

LIMIT = 10 * MB  # a node's memory may grow by less than this, whatever the edition's size


def test_a_12_mb_edition_is_never_whole_in_memory_to_store_or_to_serve(database_url: str) -> None:
    figures = measure("sqlite" if database_url.startswith("sqlite") else "postgres", 12 * MB)
    assert figures["size"] >= 12 * MB
    assert figures["store_rss_growth"] < LIMIT, figures
    assert figures["serve_rss_growth"] < LIMIT, figures
