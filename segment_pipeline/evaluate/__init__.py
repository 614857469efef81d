"""Membership, join times, snapshots, deltas and history, evaluated in the warehouse."""
