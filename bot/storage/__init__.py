"""SQLite storage: one connection per process, migrations, and repositories (the only place with SQL)."""
