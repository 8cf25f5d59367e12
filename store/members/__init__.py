"""The member registry: credit codes, importing, the lookup index, status and privacy rules,
binding followers to member units, the registry's figures on any day (stats, asof, eligibility,
ranking, regions), demo data, and the `main.py members …` commands."""
