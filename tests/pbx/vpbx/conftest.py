"""Fixtures shared by the Rostelecom tests: the webhook app on a real port."""

from tests.pbx.vpbx.webhook_harness import pbx, setup

__all__ = ["pbx", "setup"]
