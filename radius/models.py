"""The FreeRADIUS tables (radcheck, radreply, radacct, nas, ...) arrive with the RADIUS issue."""
