"""Hotspot pages, one module per URL prefix: packages (/packages/), customers (/customers/),
vouchers (/vouchers/), portal (/portal/)."""
