"""Optimisation-based visualisation, the third stage: what to maximise (``objectives``, ``accentuation``),
what the optimiser changes (``params``, ``maco``), the pieces that keep images natural (``regularizers``),
**the** loop (``optimize``) and the literature's recipes over it (``presets``: Simonyan 2013 … Fel 2023)."""
