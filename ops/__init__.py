"""Operations: what an operator reads of a running bot (/metrics, /healthz, /readyz on a site of their
own, and the dashboard's figures as data) and the database's backup and restore. The metrics
themselves are defined in core/metrics.py, where every layer can count."""
