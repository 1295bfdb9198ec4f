"""Partner agencies: their keys (shown once, kept as a hash), who is calling, their names.

Others use `auth` (Caller, authenticate, new_key, hash_key), `names.agency_name` and
`store` (create an agency, list them).
"""
