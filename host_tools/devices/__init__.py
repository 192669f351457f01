"""The device layer: every board the host tools talk to, behind one interface, one module per transport."""
