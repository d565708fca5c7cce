"""The scheduler and the regulated jobs (seed 000)."""
