-- Declared disasters and the disaster advisories (playbooks) each one activated.
CREATE TABLE disasters (
    id text PRIMARY KEY,
    hazard text NOT NULL,
    title text NOT NULL,
    occurred_at timestamptz NOT NULL,
    areas jsonb NOT NULL,
    countries text[] NOT NULL,
    advisory_ids text[] NOT NULL,
    declared_at timestamptz NOT NULL
);
CREATE INDEX disasters_declared ON disasters (declared_at);

-- Every name a feed gave a disaster (CAP sender+identifier, USGS ids, plain JSON id):
-- the same event sent again, or an update naming it, finds the disaster it already is.
CREATE TABLE disaster_keys (
    key text PRIMARY KEY,
    disaster_id text NOT NULL REFERENCES disasters (id)
);

-- Published advisories by kind, for product pages and disaster activation.
CREATE INDEX advisories_published ON advisories (kind) WHERE state = 'published';
