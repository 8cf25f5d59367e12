"""The member registry: credit codes, importing, the lookup index, status and privacy rules,
binding followers to member units, reading the registry for editors (registry) and demo data."""
