"""Contact ownership refresh (seed 000): the full and the operative job."""
