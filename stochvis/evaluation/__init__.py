"""Measuring visualisations with networks never optimised against: ``metrics`` (confidence,
transfer, FID-like distance, plausibility, diversity) and ``comparison`` (the methods table)."""
