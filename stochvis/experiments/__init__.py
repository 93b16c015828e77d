"""Experiments: each module is one protocol — its setting, its rows, its runner, its table and its CLI
(``python -m stochvis.experiments.<name>``) — over the generic stages below it. Worlds plug in here;
nothing below imports an experiment.

* :mod:`~stochvis.experiments.fashion` — the Fashion-MNIST table (notebook 08).
* :mod:`~stochvis.experiments.imagenet_transfer` — ImageNet classes judged by sibling networks (notebook 08).
* :mod:`~stochvis.experiments.natural` — the natural-image table (notebook 09).
* :mod:`~stochvis.experiments.explorations` — the loop of the explorations beside it (``scripts/try_*.py``).
* :mod:`~stochvis.experiments.tables` — what the tables share: the verdict rule, judge disagreements, the images file.
"""
