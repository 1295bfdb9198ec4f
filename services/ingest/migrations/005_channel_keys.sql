-- Who may write to ingest: one key per sales channel (its own orders, cancellations and
-- returns) and catalog keys (the catalog only). A key is stored only as its SHA-256 hash;
-- key_id is its public part (`ck_<key_id>_…`), shown in listings and logs.
CREATE TABLE channel_keys (
    name text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('channel', 'catalog')),
    key_id text NOT NULL UNIQUE,
    key_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    last_used_at timestamptz
);
