"""Advisory: agencies, advisories and their embargoes, disasters, product notices."""
