"""Does a judge's realism weigh fine texture? A measurement on the committed seed-0 images
(``figures/09_natural_images.safetensors``), not a row: each row's images are scored against *training* composites
(the table's rule's reference, ``explorations.select_on_training``), as they are and after a mild blur (Gaussian,
σ = 0.7 px, 5×5), so what it prints says where to look, and says nothing of held-out images.

Why: the silhouette row's weak condition is realism in VGG16's features (its FID-like against the VITAL-style row's),
and each change that calmed its images for the Lites cost VGG16. The row has 2.5× the real composites' share of
spectral power above half of Nyquist, VITAL's images half of it (``scripts/measure_fine_detail.py``). If VGG16's
pooled conv5_3 features read that fine texture, a blur moves the row towards training composites in VGG16's
features far more than it moves the calmer rows; if it does not, the fine detail is not what VGG16 holds against
the row. The blurred training composites' own scores are the check that a blur is mild: a real image blurred
should stay about as real.

    .venv/bin/python scripts/measure_blur_sensitivity.py      # ≈ 5 minutes, 2 cores

Measured on 2026-12-07 (against training composites; as they are → blurred). VGG16 FID-like: training composites
themselves 7489 → 6516 (−13%), the silhouette row 7091 → 6560 (−7.5%), the colour-basis row 6715 → 6450 (−4%), the
drawn row 6565 → 6607 (+0.6%), VITAL-style 6965 → 6875 (−1.3%). Plausibility falls under every judge for every
set, real ones included (VGG16: real 0.605 → 0.577, the silhouette row 0.529 → 0.472, VITAL 0.534 → 0.489). Under
the Lites a blur raises FID-like a little for most rows and lowers it for real composites (Lite1 1391 → 1330).

Reading: a blur makes *real* composites 13% "more real" by VGG16's FID-like, and the silhouette row's blur gain is
about half of that, so the row's fine detail is not what VGG16 holds against it more than against real images. Nor
is the real composites' gain narrowness alone: pulling their VGG16 features towards their mean gains at most 1.9%
(``scripts/measure_fid_spread.py``); a blur changes what VGG16's deep features say of any image. Plausibility
(cosine to the class centroid) moves the way realism should under a blur: down for everything. So a calmer image
is not thereby a more real one to VGG16's FID-like (``scripts/try_calm_backdrop.py`` found the same), and a blur is
no remedy to be chosen by it.
"""

from __future__ import annotations

import torch
from safetensors.torch import load_file

from stochvis.experiments import explorations
from stochvis.experiments import natural as N
from stochvis.models import load_model

IMAGES = "figures/09_natural_images.safetensors"
ROWS = (N.SILHOUETTE_ROW, N.DRAWN_COLOUR_ROW, N.DRAWN_ROW, N.VITAL)
SIGMA = 0.7


def blurred(images: torch.Tensor) -> torch.Tensor:
    from torchvision.transforms.functional import gaussian_blur

    return gaussian_blur(images, kernel_size=5, sigma=SIGMA)


def main() -> None:
    torch.set_num_threads(2)
    saved = load_file(IMAGES)
    s = N.natural_setting(load_model(N.SUBJECT), N.Protocol())
    kinds, shown = s.protocol.kinds, s.protocol.samples
    rows = {name: {k: saved[f"{name}/{k}"].float() / 255 for k in kinds} for name in ROWS}
    # the rule's lines show the shown training composites as they are ("training composites"); blurred beside them
    candidates = {"training composites, blurred": {k: blurred(v[:shown]) for k, v in s.train.items()}}
    for name, images in rows.items():
        candidates[name] = images
        candidates[f"{name}, blurred"] = {k: blurred(v) for k, v in images.items()}
    _, lines = explorations.select_on_training(s, candidates, N.load_judges())
    print("\n".join(line for line in lines if not line.startswith("mean realism rank")))


if __name__ == "__main__":
    main()
