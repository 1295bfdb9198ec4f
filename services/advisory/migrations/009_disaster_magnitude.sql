-- A quake's magnitude where its feed gives one (USGS), carried on disasters.declared so that
-- a playbook's min_magnitude can be compared with it; NULL for events measured otherwise
-- (JMA by intensity, warnings, CAP) and for disasters declared before.
ALTER TABLE disasters ADD COLUMN magnitude double precision;
