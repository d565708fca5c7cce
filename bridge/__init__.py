"""telebridge: the telephony bridge between 1C:Enterprise and office PBXs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("telebridge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
