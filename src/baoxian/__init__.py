"""Baoxian (保险): an open-source insurance service platform."""

__version__ = "0.1.0"
