"""Monitoring pages, one module per URL: dashboard (/), health (/health/) and activity (/activity/)."""
