"""Mirador: a regional migration observatory and return, reintegration and consular platform."""

__version__ = "0.1.0"
