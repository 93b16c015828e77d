"""Image folders from a new user: transparency composited on white (never dropped), one class per subfolder."""

from __future__ import annotations

import numpy as np
from PIL import Image

from stochvis.data import image_folder, resize_to


def test_an_rgba_png_in_a_folder_is_read_on_white(tmp_path):
    (tmp_path / "cut-outs").mkdir()
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 1] = 200  # green everywhere, but transparent outside the centre
    rgba[1:3, 1:3, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut-outs" / "a.png")
    images = image_folder(tmp_path)
    pixels = np.asarray(images[0][0])
    assert images.classes == ["cut-outs"] and images[0][0].mode == "RGB"
    assert tuple(pixels[0, 0]) == (255, 255, 255)  # transparent: the white background, not the hidden green
    assert tuple(pixels[1, 1]) == (0, 200, 0)
    tensor = resize_to((4, 4))(Image.fromarray(rgba, "RGBA"))  # a PIL RGBA image given directly: the same rule
    assert float(tensor[:, 0, 0].min()) == 1.0
