"""Account pages, one module per URL prefix: login (/login/, /logout/) and staff (/staff/)."""
