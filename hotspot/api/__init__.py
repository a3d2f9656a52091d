"""Hotspot API, one module per resource of its URL: packages (/api/packages), users (/api/users,
/api/hotspot/users, /api/hotspot/stats), vouchers (/api/hotspot/vouchers), portal (/api/portal)."""
