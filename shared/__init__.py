"""The common library of the Anshin services: config, clock, bus, messages, db, http."""
