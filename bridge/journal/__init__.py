"""The call journal: one record per leg, grouped under `linkedid` (PRODUCT §5)."""
