"""A bare Django site for the registration benchmark's baseline: one table, one view that
inserts one row. Served exactly as Mirador is (waitress, the same threads, the same
PostgreSQL server and connection reuse), so that the ratio measures Mirador's own work."""
