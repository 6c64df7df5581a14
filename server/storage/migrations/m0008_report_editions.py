"""Report editions that can be compared and trusted: each keeps the fingerprint of the data it was
made from (printed on its cover) and whether it was made before its period ended (provisional,
watermarked SEMENTARA), so the list of editions never offers a provisional one as final."""

STATEMENTS = [
    "ALTER TABLE report_edition ADD COLUMN fingerprint VARCHAR(64) NOT NULL DEFAULT ''",
    "ALTER TABLE report_edition ADD COLUMN provisional BOOLEAN NOT NULL DEFAULT FALSE",
]
