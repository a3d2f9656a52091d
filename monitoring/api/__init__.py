"""Monitoring API, one module per resource: health (/api/health...)."""
