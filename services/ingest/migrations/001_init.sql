-- The product catalog: SKU (and GTIN) to safety categories.
CREATE TABLE catalog (
    sku text PRIMARY KEY,
    gtin text,
    title text NOT NULL,
    categories text[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalog_gtin ON catalog (gtin) WHERE gtin IS NOT NULL;

-- Every order accepted, once per (channel, order_id): the key that makes ingest idempotent.
CREATE TABLE orders (
    channel text NOT NULL,
    order_id text NOT NULL,
    customer_id text NOT NULL,
    placed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    country text NOT NULL,
    region text,
    postal_code text,
    lat double precision,
    lon double precision,
    PRIMARY KEY (channel, order_id)
);

-- Each line with its categories and how they were found (catalog or rule), for audit.
CREATE TABLE order_lines (
    channel text NOT NULL,
    order_id text NOT NULL,
    line_no int NOT NULL,
    sku text NOT NULL,
    gtin text,
    title text NOT NULL DEFAULT '',
    quantity int NOT NULL DEFAULT 1,
    categories text[] NOT NULL DEFAULT '{}',
    categorized_by text NOT NULL DEFAULT 'none',
    PRIMARY KEY (channel, order_id, line_no),
    FOREIGN KEY (channel, order_id) REFERENCES orders (channel, order_id)
);

-- Cancellations and returns, once each.
CREATE TABLE order_events (
    channel text NOT NULL,
    order_id text NOT NULL,
    event text NOT NULL,
    line_nos int[] NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL,
    PRIMARY KEY (channel, order_id, event),
    FOREIGN KEY (channel, order_id) REFERENCES orders (channel, order_id)
);
