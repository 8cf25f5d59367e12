"""The member registry: credit codes, importing, the lookup index, status and privacy rules,
binding followers to member units, reading the registry for editors (registry), the registry's figures
on any day (stats, asof, eligibility, ranking, regions) and demo data."""
