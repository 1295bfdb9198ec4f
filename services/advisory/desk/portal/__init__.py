"""/portal: the agencies' pages."""
