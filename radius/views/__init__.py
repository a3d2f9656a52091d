"""RADIUS pages, one module per URL under /radius/: nas, users, sessions (and history, disconnect), auth_log."""
