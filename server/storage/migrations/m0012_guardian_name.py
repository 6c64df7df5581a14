"""The mother's or guardian's name of a registered person, when the intake asks it (registry
`creates.guardian`): compared for probable duplicates (domain/duplicates.py), where a child or an
elderly person without a NIK is most often told apart by it."""

STATEMENTS = [
    "ALTER TABLE beneficiary ADD COLUMN guardian_name VARCHAR(200) NOT NULL DEFAULT ''",
]
