"""Accounts API, one module per resource: auth (/api/login, /api/logout, /api/refresh, /api/user)."""
