"""The JSON API of advisories for their agencies and operators."""
