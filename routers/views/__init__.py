"""The routers app's pages, one module per URL under /routers/: routers (the list, add, a router's page,
edit, remove, test, provisioning, traffic), actions (a router's backup, restore, reboot, kick and its
live panels: sessions, logs, drift, repair), vpn (/routers/vpn/ and /routers/<id>/vpn/…),
access_points (/routers/access-points/) and services (/routers/services/)."""
