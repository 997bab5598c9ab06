"""Compatibility helpers for the machines the suite runs on."""
