"""Contact ownership refresh (seed 000): `contact_refresh` and `contact_refresh_operative`."""
