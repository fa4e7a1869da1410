"""Zhili (治理): an open platform for governing a mega-city."""

__version__ = "0.1.0"
