-- Partner agencies; the key is stored only as its SHA-256 hash.
CREATE TABLE agencies (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    key_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The current version of each advisory; state: embargoed, published, withdrawn.
CREATE TABLE advisories (
    id text PRIMARY KEY,
    agency_id text NOT NULL REFERENCES agencies (id),
    version int NOT NULL DEFAULT 1,
    state text NOT NULL DEFAULT 'embargoed'
        CHECK (state IN ('embargoed', 'published', 'withdrawn')),
    kind text NOT NULL,
    rule jsonb NOT NULL,
    title jsonb NOT NULL,
    body jsonb NOT NULL,
    source_url text NOT NULL DEFAULT '',
    embargo_until timestamptz NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL,
    published_at timestamptz,
    withdrawn_at timestamptz
);
CREATE INDEX advisories_due ON advisories (embargo_until) WHERE state = 'embargoed';
CREATE INDEX advisories_agency ON advisories (agency_id);

-- Every version ever submitted, for audit.
CREATE TABLE advisory_versions (
    advisory_id text NOT NULL REFERENCES advisories (id),
    version int NOT NULL,
    content jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (advisory_id, version)
);
