"""Dataset families, one module each; every module defines ``SPECS`` (a tuple of DatasetSpec)."""
FAMILIES = ("haze", "rain", "snow", "lowlight", "blur", "udc", "mixed", "demo")
