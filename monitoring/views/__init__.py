"""Monitoring pages, one module per URL: dashboard (/) and health (/health/)."""
