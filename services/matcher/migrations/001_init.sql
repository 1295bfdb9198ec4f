-- Purchases reduced to (customer, category): no e-mail, a coarse location.
CREATE TABLE purchases (
    channel text NOT NULL,
    order_id text NOT NULL,
    line_no int NOT NULL,
    category text NOT NULL,
    customer_id text NOT NULL,
    sku text NOT NULL,
    gtin text,
    title text NOT NULL DEFAULT '',
    placed_at timestamptz NOT NULL,
    country text NOT NULL,
    region text,
    lat double precision,
    lon double precision,
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (channel, order_id, line_no, category)
);
CREATE INDEX purchases_category_time ON purchases (category, placed_at) WHERE active;
CREATE INDEX purchases_customer ON purchases (customer_id);

-- Rules from published advisories; withdrawn_at set when withdrawn.
CREATE TABLE rules (
    advisory_id text PRIMARY KEY,
    version int NOT NULL,
    kind text NOT NULL,
    rule jsonb NOT NULL,
    published_at timestamptz NOT NULL,
    expires_at timestamptz,
    withdrawn_at timestamptz
);

-- One row per (advisory, customer) ever requested: the matcher's own idempotency key.
CREATE TABLE matches (
    advisory_id text NOT NULL,
    customer_id text NOT NULL,
    matched_at timestamptz NOT NULL,
    PRIMARY KEY (advisory_id, customer_id)
);
