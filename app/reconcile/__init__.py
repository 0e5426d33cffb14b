"""The planning core: desired + observed -> actions. Pure code, no I/O, no frameworks."""
