"""The advisory's life: what an agency submits, the stored advisory, the embargo rule."""
