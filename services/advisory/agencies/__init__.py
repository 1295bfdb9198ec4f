"""Partner agencies: their keys, who is calling, their names."""
