"""Storage: the database engine and sessions, the models of every feature, the Alembic migrations,
and the importers and indexes that fill and read them (content, members)."""
