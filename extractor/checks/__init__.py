"""Checks: rules over plain Reports that return Findings. Nothing here knows of storage or outputs."""
