"""Schema migrations, applied in name order by storage/migrate.py. Each module lists portable
DDL; `{pk}` becomes an auto-increment key for the engine. A published migration never changes:
add a new one."""
