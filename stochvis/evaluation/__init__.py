"""Measuring visualisations with networks never optimised against: ``metrics`` (confidence, transfer,
FID-like distance, plausibility, diversity, novelty) and ``workers`` (independent seeded pieces side by side).
The protocols that use them — which methods, which classes, which judges — are in :mod:`stochvis.experiments`."""
