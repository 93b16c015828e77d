"""Optimisation-based visualisation, the third stage: what to maximise (``objectives``), what the
optimiser changes (``params``), the pieces that keep images natural (``regularizers``), **the** loop
(``optimize``) and the literature's recipes over it (``presets``)."""
