-- Sessions of the agencies' portal. The cookie holds a random id; this table holds only its
-- SHA-256, so a copy of the table signs no one in. A session lives until it expires or its
-- agency signs out, and only while the agency's key is the one it was opened with: a key
-- replaced ends the sessions opened with the old one.
CREATE TABLE portal_sessions (
    id_hash text PRIMARY KEY,
    agency_id text NOT NULL REFERENCES agencies (id) ON DELETE CASCADE,
    key_hash text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
CREATE INDEX portal_sessions_agency ON portal_sessions (agency_id);
