-- GTINs are kept as GTIN-14 (shared/gtin.py): an EAN-8, UPC-A or EAN-13 of the catalog is
-- padded with zeros, so that an order line naming the product in another length finds its
-- categories. A value that is no GTIN at all is left as it is (it matches nothing new);
-- a blank one is none. The lines kept in orders (for audit and events) are left as sent.
UPDATE catalog SET gtin = lpad(gtin, 14, '0') WHERE gtin ~ '^([0-9]{8}|[0-9]{12,13})$';
UPDATE catalog SET gtin = NULL WHERE btrim(gtin) = '';
