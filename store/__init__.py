"""Storage and the domain functions over it: the database engine and sessions, the models of every
feature, the Alembic migrations, the shared-state backends (shared), the editors' keyword rules
(keywords), and the importers and indexes that fill and read the content and the member registry.
It imports only core (and the platform's limits, wechat/limits.py)."""
