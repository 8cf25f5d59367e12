"""The member registry: credit codes, importing, the lookup index, status and privacy rules,
binding followers to member units, demo data, and the `main.py members …` commands."""
