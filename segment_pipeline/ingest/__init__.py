"""Landing zone to warehouse: read each day's files, quarantine bad rows, keep every version."""
