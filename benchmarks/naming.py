"""Small naming helpers shared by the dataset layouts and output folders: the method library's natural sort order
(:func:`ypt.media.natural_key`), so frames sort the same way everywhere."""
from __future__ import annotations

from ypt.media import natural_key

__all__ = ["natural_key"]
