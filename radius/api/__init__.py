"""RADIUS API, one module per resource: sessions (/api/hotspot/sessions, /api/logs/sessions)."""
