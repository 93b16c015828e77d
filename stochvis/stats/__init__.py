"""Class-conditional activation statistics, the fourth stage: stream, store, model, sample.

``moments`` accumulates one feature's moments exactly and mergeably; ``collect`` streams images
through a model into them; ``store`` is the container and its file format (tied to the model's
fingerprint); ``density`` fits density models with scikit-learn's face from the moments; ``sampling``
draws from them; ``analysis`` says what separates classes. The public names are re-exported here
so a notebook needs one import: ``from stochvis import stats as S``.
"""

from stochvis.features import MapTooLargeError, make_plan
from stochvis.stats.analysis import discriminant_directions, fisher_ratio
from stochvis.stats.collection import collect, collect_classes, collect_classes_cached, default_directory
from stochvis.stats.curve_density import CurveDensity, collect_curve_density
from stochvis.stats.density import GaussianDensity, MixtureDensity, PPCADensity, oas_shrinkage
from stochvis.stats.lowrank import LowRankDensity
from stochvis.stats.moments import HIST_BINS, FeatureStats
from stochvis.stats.store import Statistics, StatisticsFileError, check_model

__all__ = [
    "HIST_BINS", "CurveDensity", "FeatureStats", "GaussianDensity", "LowRankDensity", "MapTooLargeError", "MixtureDensity",
    "PPCADensity", "Statistics",
    "StatisticsFileError", "check_model", "collect", "collect_classes", "collect_classes_cached", "collect_curve_density",
    "default_directory", "discriminant_directions", "fisher_ratio", "make_plan", "oas_shrinkage",
]
