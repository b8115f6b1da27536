"""The todo app's real migrations, plus one no older release could run against: a fixture that
proves the migration linter refuses it (tests/test_migrations.py)."""
