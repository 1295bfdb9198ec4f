"""/console: the operators' pages."""
