"""The natural-image world: Tux Paint photo cut-outs pasted on crops of real landscape photographs.

Why: the ImageNet comparison needs *real* reference images of its classes, and none can be had here. The
closest are composites: photographed objects (Debian's ``tuxpaint-stamps-default``, RGBA cut-outs) on
nature photographs from Debian wallpaper packages. On colour noise (:func:`stochvis.data.tuxpaint`) the
object is the only structure in the image; on photographs the references have natural statistics around it.

Why an allow-list of photos: a background showing a ladybird or a flower would put mass on another kind's
classes, so every photo was looked at and only those showing none of the kinds are kept. Why a split by
object *and* by photo: held-out references must be new twice over, or an FID-like distance rewards
memorising a cut-out or a background. A kind (a group of Tux Paint folders) is scored by the probability
mass a judge puts on its set of ImageNet classes (:data:`IMAGENET_SETS`).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from stochvis.data import TUXPAINT_DIR, ImageSet
from stochvis.evaluation.metrics import probabilities, set_scores
from stochvis.models import WrappedModel

# -- backgrounds ---------------------------------------------------------------------------------------------

# Debian package -> the folder its photos are installed under. Only packages that hold photographs:
# ukui-wallpapers (12 graphic/abstract images, a fish and a flower among them) and desktop-base (SVG
# themes) were inspected and hold none.
BACKGROUND_ROOTS: dict[str, Path] = {
    "mate-backgrounds": Path("/usr/share/backgrounds/mate"),
    "plasma-workspace-wallpapers": Path("/usr/share/wallpapers"),
}
# "package:path under its root". Each photo was looked at: none shows an animal, bird, insect, flower,
# fruit, vegetable, fish or vehicle. Left out on purpose: mate's FreshFlower, Garden, YellowFlower
# (flowers), LadyBird (an insect on flowers), TwoWings (dandelion seeds on flowers); plasma's
# EveningGlow (rowing boats), Kite (a kite), ColorfulCups (cups), Grey (architecture), and every
# drawn or abstract wallpaper of both packages (not photographs).
BACKGROUNDS: tuple[str, ...] = (
    "mate-backgrounds:nature/Aqua.jpg",  # a water drop
    "mate-backgrounds:nature/Blinds.jpg",  # a green leaf, close up
    "mate-backgrounds:nature/Dune.jpg",  # dune grass and sea
    "mate-backgrounds:nature/GreenMeadow.jpg",  # grass blades
    "mate-backgrounds:nature/RainDrops.jpg",  # wet leaves
    "mate-backgrounds:nature/Storm.jpg",  # storm clouds over a road
    "mate-backgrounds:nature/Wood.jpg",  # pale planks
    "plasma-workspace-wallpapers:BytheWater/contents/images/2560x1600.jpg",  # a jetty, a lake
    "plasma-workspace-wallpapers:ColdRipple/contents/images/2560x1600.jpg",  # a pier in fog
    "plasma-workspace-wallpapers:DarkestHour/contents/images/2560x1600.jpg",  # a lake at dusk
    "plasma-workspace-wallpapers:FallenLeaf/contents/images/2560x1600.jpg",  # autumn leaves
    "plasma-workspace-wallpapers:OneStandsOut/contents/images/2560x1600.jpg",  # moss from above
    "plasma-workspace-wallpapers:Path/contents/images/2560x1600.jpg",  # a forest path
    "plasma-workspace-wallpapers:summer_1am/contents/images/2560x1600.jpg",  # a lake at night
)
APT_GET = "apt-get install -y --no-install-recommends {}"
HELD_OUT_BACKGROUNDS = 0.3  # fraction of the photos kept for held-out composites
CROP_RANGE = (0.35, 1.0)  # side of the square background crop, as a fraction of the photo's short side
SCALE_RANGE = (0.45, 0.85)  # the cut-out's size (geometric mean of its sides) over the canvas side


def background_path(background: str) -> Path:
    """The file of an allow-listed background ("package:path"), or of any existing image path.

    A missing allow-listed photo is a FileNotFoundError naming the apt-get command that installs it."""
    package, sep, relative = background.partition(":")
    if sep and package in BACKGROUND_ROOTS:
        path = BACKGROUND_ROOTS[package] / relative
        if not path.is_file():
            raise FileNotFoundError(f"background photo {path} is missing: it comes with Debian's {package} "
                                    f"({APT_GET.format(package)})")
        return path
    path = Path(background)
    if path.is_file():
        return path
    raise FileNotFoundError(f"unknown background {background!r}: give an existing image file or one of "
                            f"stochvis.worlds.natural.BACKGROUNDS ({', '.join(BACKGROUNDS[:3])}, ...)")


def split_backgrounds(backgrounds: Sequence[str] = BACKGROUNDS,
                      fraction: float = HELD_OUT_BACKGROUNDS) -> tuple[list[str], list[str]]:
    """(train, held-out) photos: ``round(fraction · n)`` photos spread evenly over the list are held out
    (at least one each side), so both sides mix packages and scenes. Deterministic."""
    backgrounds = list(dict.fromkeys(backgrounds))
    if len(backgrounds) < 2:
        raise ValueError(f"a split needs at least 2 background photos, got {len(backgrounds)}")
    count = min(len(backgrounds) - 1, max(1, round(fraction * len(backgrounds))))
    held = {int((k + 0.5) * len(backgrounds) / count) for k in range(count)}
    return ([b for i, b in enumerate(backgrounds) if i not in held],
            [b for i, b in enumerate(backgrounds) if i in held])


@functools.lru_cache(maxsize=32)
def _photo(path: str, short_side: int) -> Image.Image:
    """The photo decoded once at a working resolution (short side ``short_side``, never upscaled):
    a 2560-px JPEG is decoded at reduced scale (``draft``), which is most of the cost of a composite."""
    with Image.open(path) as opened:
        scale = min(1.0, short_side / min(opened.size))
        target = (max(1, round(opened.width * scale)), max(1, round(opened.height * scale)))
        opened.draft("RGB", target)
        image = opened.convert("RGB")
    return image.resize(target, Image.LANCZOS) if image.size != target else image


# -- object kinds --------------------------------------------------------------------------------------------

# Kind -> Tux Paint folders under TUXPAINT_DIR, subfolders included except those another kind names
# (the most specific folder wins: bovines are not mammals here, so the two sets stay disjoint).
KIND_FOLDERS: dict[str, tuple[str, ...]] = {
    "birds": ("animals/birds",),
    "mammals": ("animals/mammals",),
    "bovines": ("animals/mammals/bovines",),
    "sea_life": ("animals/fish", "animals/shellfish"),
    "insects": ("animals/insects",),
    "fruit": ("food/fruit",),
    "vegetables": ("food/vegetables",),
    "flowers": ("plants/flowers",),
    "vehicles": ("vehicles", "military/vehicles"),
}
SKIPPED_FOLDERS = frozenset({"cartoon", "toys"})  # drawings and toys, not photographed objects
NOT_OBJECTS = frozenset({"vehicles/7spoke256.png", "vehicles/wheel_tractor.png"})  # wheels, not vehicles
MIN_OBJECTS = 12  # fewer cut-outs leave too few held-out objects (every 4th) to measure a kind
# The default kinds: those both judges recognise on real composites. recognition() at 128 px (fed as is),
# every cut-out 3 times on the held-out photos, mean of seeds 0-2, Lite1 / Lite2 set mass (top-1 in set):
#   birds 0.83 / 0.87 (0.84 / 0.87)   mammals 0.67 / 0.66 (0.67 / 0.66)   bovines 0.46 / 0.44 (0.49 / 0.44)
#   fruit 0.58 / 0.59 (0.59 / 0.59)   vehicles 0.57 / 0.56 (0.57 / 0.57)   (bovines is borderline: 0.40 at worst)
# Left out (mass < 0.4 under both, though 9-90x chance): flowers 0.36 / 0.34 (ImageNet's flowers are
# daisy, lady's slipper, rapeseed), vegetables 0.32 / 0.31 and sea_life 0.30 / 0.31 (most of their
# objects, e.g. carrot, onion, shrimp, seahorse, have no ImageNet class); insects: 9 cut-outs, too few.
KINDS: tuple[str, ...] = ("birds", "mammals", "bovines", "fruit", "vehicles")

# Kind -> its ImageNet classes (names of stochvis.models.imagenet_classes()); a judge's confidence of a
# composite is its softmax mass on the set. Animal kinds take branches of the ImageNet tree (birds 7-24,
# 80-100, 127-146; bovines 345-353; mammals 101-106, 147-299, 330-388 less bovines); food and plant kinds
# the classes that exist (ImageNet-1k has no carrot, tomato, grape or rose); "pot" is the flowerpot.
IMAGENET_SETS: dict[str, tuple[str, ...]] = {
    "birds": (  # 59
        "cock", "hen", "ostrich", "brambling", "goldfinch", "house finch", "junco", "indigo bunting", "robin",
        "bulbul", "jay", "magpie", "chickadee", "water ouzel", "kite", "bald eagle", "vulture", "great grey owl",
        "black grouse", "ptarmigan", "ruffed grouse", "prairie chicken", "peacock", "quail", "partridge",
        "African grey", "macaw", "sulphur-crested cockatoo", "lorikeet", "coucal", "bee eater", "hornbill",
        "hummingbird", "jacamar", "toucan", "drake", "red-breasted merganser", "goose", "black swan", "white stork",
        "black stork", "spoonbill", "flamingo", "little blue heron", "American egret", "bittern", "crane bird",
        "limpkin", "European gallinule", "American coot", "bustard", "ruddy turnstone", "red-backed sandpiper",
        "redshank", "dowitcher", "oystercatcher", "pelican", "king penguin", "albatross",
    ),
    "mammals": (  # 209
        "tusker", "echidna", "platypus", "wallaby", "koala", "wombat", "grey whale", "killer whale", "dugong",
        "sea lion", "Chihuahua", "Japanese spaniel", "Maltese dog", "Pekinese", "Shih-Tzu", "Blenheim spaniel",
        "papillon", "toy terrier", "Rhodesian ridgeback", "Afghan hound", "basset", "beagle", "bloodhound", "bluetick",
        "black-and-tan coonhound", "Walker hound", "English foxhound", "redbone", "borzoi", "Irish wolfhound",
        "Italian greyhound", "whippet", "Ibizan hound", "Norwegian elkhound", "otterhound", "Saluki",
        "Scottish deerhound", "Weimaraner", "Staffordshire bullterrier", "American Staffordshire terrier",
        "Bedlington terrier", "Border terrier", "Kerry blue terrier", "Irish terrier", "Norfolk terrier",
        "Norwich terrier", "Yorkshire terrier", "wire-haired fox terrier", "Lakeland terrier", "Sealyham terrier",
        "Airedale", "cairn", "Australian terrier", "Dandie Dinmont", "Boston bull", "miniature schnauzer",
        "giant schnauzer", "standard schnauzer", "Scotch terrier", "Tibetan terrier", "silky terrier",
        "soft-coated wheaten terrier", "West Highland white terrier", "Lhasa", "flat-coated retriever",
        "curly-coated retriever", "golden retriever", "Labrador retriever", "Chesapeake Bay retriever",
        "German short-haired pointer", "vizsla", "English setter", "Irish setter", "Gordon setter", "Brittany spaniel",
        "clumber", "English springer", "Welsh springer spaniel", "cocker spaniel", "Sussex spaniel",
        "Irish water spaniel", "kuvasz", "schipperke", "groenendael", "malinois", "briard", "kelpie", "komondor",
        "Old English sheepdog", "Shetland sheepdog", "collie", "Border collie", "Bouvier des Flandres", "Rottweiler",
        "German shepherd", "Doberman", "miniature pinscher", "Greater Swiss Mountain dog", "Bernese mountain dog",
        "Appenzeller", "EntleBucher", "boxer", "bull mastiff", "Tibetan mastiff", "French bulldog", "Great Dane",
        "Saint Bernard", "Eskimo dog", "malamute", "Siberian husky", "dalmatian", "affenpinscher", "basenji", "pug",
        "Leonberg", "Newfoundland", "Great Pyrenees", "Samoyed", "Pomeranian", "chow", "keeshond", "Brabancon griffon",
        "Pembroke", "Cardigan", "toy poodle", "miniature poodle", "standard poodle", "Mexican hairless", "timber wolf",
        "white wolf", "red wolf", "coyote", "dingo", "dhole", "African hunting dog", "hyena", "red fox", "kit fox",
        "Arctic fox", "grey fox", "tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "cougar", "lynx",
        "leopard", "snow leopard", "jaguar", "lion", "tiger", "cheetah", "brown bear", "American black bear",
        "ice bear", "sloth bear", "mongoose", "meerkat", "wood rabbit", "hare", "Angora", "hamster", "porcupine",
        "fox squirrel", "marmot", "beaver", "guinea pig", "sorrel", "zebra", "hog", "wild boar", "warthog",
        "hippopotamus", "Arabian camel", "llama", "weasel", "mink", "polecat", "black-footed ferret", "otter", "skunk",
        "badger", "armadillo", "three-toed sloth", "orangutan", "gorilla", "chimpanzee", "gibbon", "siamang", "guenon",
        "patas", "baboon", "macaque", "langur", "colobus", "proboscis monkey", "marmoset", "capuchin", "howler monkey",
        "titi", "spider monkey", "squirrel monkey", "Madagascar cat", "indri", "Indian elephant", "African elephant",
        "lesser panda", "giant panda",
    ),
    "bovines": (  # 9
        "ox", "water buffalo", "bison", "ram", "bighorn", "ibex", "hartebeest", "impala", "gazelle",
    ),
    "sea_life": (  # 35
        "tench", "goldfish", "great white shark", "tiger shark", "hammerhead", "electric ray", "stingray",
        "barracouta", "eel", "coho", "rock beauty", "anemone fish", "sturgeon", "gar", "lionfish", "puffer",
        "Dungeness crab", "rock crab", "fiddler crab", "king crab", "American lobster", "spiny lobster", "crayfish",
        "hermit crab", "isopod", "jellyfish", "sea anemone", "brain coral", "conch", "sea slug", "chiton",
        "chambered nautilus", "starfish", "sea urchin", "sea cucumber",
    ),
    "insects": (  # 27
        "tiger beetle", "ladybug", "ground beetle", "long-horned beetle", "leaf beetle", "dung beetle",
        "rhinoceros beetle", "weevil", "fly", "bee", "ant", "grasshopper", "cricket", "walking stick", "cockroach",
        "mantis", "cicada", "leafhopper", "lacewing", "dragonfly", "damselfly", "admiral", "ringlet", "monarch",
        "cabbage butterfly", "sulphur butterfly", "lycaenid",
    ),
    "fruit": (  # 10
        "Granny Smith", "strawberry", "orange", "lemon", "fig", "pineapple", "banana", "jackfruit", "custard apple",
        "pomegranate",
    ),
    "vegetables": (  # 16
        "head cabbage", "broccoli", "cauliflower", "zucchini", "spaghetti squash", "acorn squash", "butternut squash",
        "cucumber", "artichoke", "bell pepper", "cardoon", "mushroom", "corn", "ear", "agaric", "bolete",
    ),
    "flowers": (  # 4
        "daisy", "yellow lady's slipper", "rapeseed", "pot",
    ),
    "vehicles": (  # 67
        "aircraft carrier", "airliner", "airship", "ambulance", "amphibian", "balloon", "beach wagon",
        "bicycle-built-for-two", "bullet train", "cab", "canoe", "catamaran", "container ship", "convertible",
        "electric locomotive", "fireboat", "fire engine", "forklift", "freight car", "garbage truck", "go-kart",
        "golfcart", "gondola", "half track", "harvester", "horse cart", "jeep", "jinrikisha", "lifeboat", "limousine",
        "liner", "minibus", "minivan", "mobile home", "Model T", "moped", "motor scooter", "mountain bike",
        "moving van", "oxcart", "passenger car", "pickup", "police van", "racer", "recreational vehicle", "schooner",
        "school bus", "snowmobile", "snowplow", "space shuttle", "speedboat", "sports car", "steam locomotive",
        "streetcar", "submarine", "tank", "thresher", "tow truck", "tractor", "trailer truck", "tricycle", "trimaran",
        "trolleybus", "unicycle", "warplane", "wreck", "yawl",
    ),
}


def kind_files(kind: str) -> list[Path]:
    """The photographed cut-outs of ``kind``, sorted by their path under TUXPAINT_DIR."""
    if kind not in KIND_FOLDERS:
        raise KeyError(f"unknown kind {kind!r}; kinds: {', '.join(KIND_FOLDERS)}")
    others = [f"{f}/" for k, folders in KIND_FOLDERS.items() if k != kind for f in folders]
    files = []
    for folder in KIND_FOLDERS[kind]:
        root = TUXPAINT_DIR / folder
        if not root.is_dir():
            raise FileNotFoundError(f"{root} is missing: install Debian's tuxpaint-stamps-default "
                                    f"({APT_GET.format('tuxpaint-stamps-default')})")
        for path in root.rglob("*.png"):
            name = path.relative_to(TUXPAINT_DIR).as_posix()
            claimed = any(name.startswith(o) and len(o) > len(folder) + 1 for o in others)  # a deeper kind's
            if not (claimed or SKIPPED_FOLDERS.intersection(name.split("/")[:-1]) or name in NOT_OBJECTS
                    or any(mark in path.stem for mark in ("_shadow", "_back", "_mirror"))):
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(TUXPAINT_DIR).as_posix())


def kind_counts() -> dict[str, int]:
    """Kind -> number of cut-outs installed."""
    return {kind: len(kind_files(kind)) for kind in KIND_FOLDERS}


def check_kinds(kinds: Sequence[str]) -> list[str]:
    """``kinds`` as a list, refusing unknown kinds and kinds with fewer than MIN_OBJECTS cut-outs with a
    sentence naming the valid kinds and their counts."""
    if isinstance(kinds, str):
        kinds = [kinds]
    counts = kind_counts()
    valid = ", ".join(f"{k} ({n})" for k, n in counts.items() if n >= MIN_OBJECTS) or "none installed"
    for kind in kinds:
        if kind not in KIND_FOLDERS:
            raise KeyError(f"unknown kind {kind!r}; valid kinds (cut-outs): {valid}")
        if counts[kind] < MIN_OBJECTS:
            raise ValueError(f"kind {kind!r} has {counts[kind]} cut-outs, fewer than {MIN_OBJECTS}; valid kinds "
                             f"(cut-outs): {valid}")
    if not kinds:
        raise ValueError(f"no kinds given; valid kinds (cut-outs): {valid}")
    return list(kinds)


def split_objects(files: Sequence[Path], held_out_every: int = 4) -> tuple[list[Path], list[Path]]:
    """(train, held-out) cut-outs: every ``held_out_every``-th in sorted order is held out."""
    if held_out_every < 2:
        raise ValueError(f"held_out_every must be at least 2, got {held_out_every}")
    return ([f for i, f in enumerate(files) if i % held_out_every != held_out_every - 1],
            [f for i, f in enumerate(files) if i % held_out_every == held_out_every - 1])


# -- composites ----------------------------------------------------------------------------------------------

PARTS = ("composite", "object", "backdrop")  # what composites(part=) draws of each composite
OBJECT_GREY = (128, 128, 128)  # the canvas of part="object": the cut-out alone, on mid-grey


def on_object(alone: torch.Tensor, tolerance: float = 1e-3) -> torch.Tensor:
    """(N, 1, H, W) bool: where images of ``part="object"`` (N, 3, H, W) in [0, 1] show the cut-out, not the grey
    canvas — the one place that says which pixels of a cut-out alone are the object's."""
    return (alone - OBJECT_GREY[0] / 255).abs().amax(1, keepdim=True) > tolerance


def _composite(stamp: Image.Image, photo: Image.Image, size: int, rng: random.Random,
               part: str = "composite") -> Image.Image:
    """One cut-out at a random scale, position and mirroring on a random square crop of one photo; or, from
    the same draws, that cut-out alone on mid-grey (``part="object"``) or that crop alone (``"backdrop"``)."""
    side = max(1, int(min(photo.size) * rng.uniform(*CROP_RANGE)))
    left, top = rng.randint(0, photo.width - side), rng.randint(0, photo.height - side)
    canvas = photo.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
    if rng.random() < 0.5:
        canvas = ImageOps.mirror(canvas)
    # by the geometric mean of the sides, so a bus is as large as a bird of the same area, capped to fit
    scale = min(rng.uniform(*SCALE_RANGE) * size / math.sqrt(stamp.width * stamp.height), size / max(stamp.size))
    cutout = stamp.resize((max(1, round(stamp.width * scale)), max(1, round(stamp.height * scale))), Image.LANCZOS)
    if rng.random() < 0.5:
        cutout = ImageOps.mirror(cutout)
    position = (rng.randint(0, size - cutout.width), rng.randint(0, size - cutout.height))
    if part == "backdrop":
        return canvas
    if part == "object":
        canvas = Image.new("RGB", (size, size), OBJECT_GREY)
    canvas.paste(cutout, position, cutout)
    return canvas


def composites(kinds: Sequence[str] = KINDS, *, size: int = 128, per_object: int = 3, seed: int = 0,
               backgrounds: Sequence[str] = BACKGROUNDS,
               objects: Mapping[str, Sequence[Path]] | None = None, name: str = "natural",
               part: str = "composite") -> ImageSet:
    """``per_object`` composites of every cut-out of ``kinds`` (or of ``objects[kind]``), one class per kind.

    Each draws its photo, crop, scale, position and mirrorings from a generator seeded by ``seed``, the
    cut-out's path and the repeat index: the same call gives the same images, and a composite does not
    change when other objects join the set. ``sources[i]`` is ``"<cut-out path>|<background>"``.
    ``part``: "composite", or one layer of each same composite — "object" (the cut-out where it would be,
    on mid-grey) or "backdrop" (the photo crop it would be pasted on): statistics of the two regions apart."""
    kinds = check_kinds(kinds)
    if part not in PARTS:
        raise ValueError(f"part={part!r}: one of {', '.join(PARTS)}")
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels (ImageNet judges see nothing in less), got {size}")
    if per_object < 1:
        raise ValueError(f"per_object must be at least 1, got {per_object}")
    backgrounds = list(backgrounds)
    if not backgrounds:
        raise ValueError(f"no backgrounds given; allow-listed: {', '.join(BACKGROUNDS)}")
    paths = {b: str(background_path(b)) for b in backgrounds}
    short_side = math.ceil(size / CROP_RANGE[0])
    images, labels, sources = [], [], []
    for label, kind in enumerate(kinds):
        files = list(objects[kind]) if objects is not None else kind_files(kind)
        for path in files:
            with Image.open(path) as opened:
                stamp = opened.convert("RGBA")
            stamp.thumbnail((2 * size, 2 * size), Image.LANCZOS)  # cheaper final resizes; same for every call
            relative = Path(path).relative_to(TUXPAINT_DIR).as_posix() if TUXPAINT_DIR in Path(path).parents else path
            for repeat in range(per_object):
                rng = random.Random(f"{seed}|{relative}|{repeat}")
                background = backgrounds[rng.randrange(len(backgrounds))]
                images.append(_composite(stamp, _photo(paths[background], short_side), size, rng, part))
                labels.append(label)
                sources.append(f"{relative}|{background}")
    return ImageSet(images, labels, kinds, name, sources)


def masks(files: Sequence[Path | str], side: int = 256) -> list[np.ndarray]:
    """Each cut-out's alpha channel (H, W) in [0, 1], at most ``side`` on its longer side: the objects' outlines,
    for a shape model of the kind (:class:`stochvis.stats.silhouettes.SilhouetteModel`). ``files``: paths, or the
    cut-out parts of composites' sources (relative to the Tux Paint stamps)."""
    out = []
    for path in files:
        path = Path(path) if Path(path).is_absolute() else TUXPAINT_DIR / path
        with Image.open(path) as opened:
            alpha = opened.convert("RGBA").getchannel("A")
        alpha.thumbnail((side, side), Image.LANCZOS)
        out.append(np.asarray(alpha, dtype=np.float32) / 255)
    return out


def source_parts(source: str) -> tuple[str, str]:
    """(cut-out, background) of a composite's source string."""
    cutout, _, background = source.partition("|")
    return cutout, background


def split(kinds: Sequence[str] = KINDS, *, size: int = 128, per_object: int = 3, seed: int = 0,
          backgrounds: Sequence[str] = BACKGROUNDS, held_out_every: int = 4,
          held_out_backgrounds: float = HELD_OUT_BACKGROUNDS, part: str = "composite",
          validation: bool = False) -> tuple[ImageSet, ImageSet]:
    """(train, held-out) composites, disjoint in cut-outs *and* photos: held-out composites paste the
    held-out cut-outs (every ``held_out_every``-th per kind) on the held-out photos only
    (:func:`split_backgrounds`), train composites the others on the others. ``part``: as in
    :func:`composites` (the same draws, so ``part="object"`` gives each composite's own cut-out).

    ``validation=True``: (fit, validation) instead, the same split applied again *inside* the training cut-outs and
    photos, so that a design choice can be scored against real images that are neither the held-out ones nor the
    source of the statistics it is made with."""
    kinds = check_kinds(kinds)
    train_photos, held_photos = split_backgrounds(backgrounds, held_out_backgrounds)
    parts = {kind: split_objects(kind_files(kind), held_out_every) for kind in kinds}
    names = ("natural/train", "natural/held-out")
    if validation:
        train_photos, held_photos = split_backgrounds(train_photos, held_out_backgrounds)
        parts = {kind: split_objects(train, held_out_every) for kind, (train, _) in parts.items()}
        names = ("natural/fit", "natural/validation")
    common = dict(size=size, per_object=per_object, seed=seed, part=part)
    return (composites(kinds, backgrounds=train_photos, objects={k: p[0] for k, p in parts.items()},
                       name=names[0], **common),
            composites(kinds, backgrounds=held_photos, objects={k: p[1] for k, p in parts.items()},
                       name=names[1], **common))


# -- what the judges recognise -------------------------------------------------------------------------------

def class_indices(kind: str, classes: Sequence[str]) -> list[int]:
    """Indices in ``classes`` (a model's class names) of the kind's ImageNet set."""
    if kind not in IMAGENET_SETS:
        raise KeyError(f"no ImageNet set for kind {kind!r}; kinds: {', '.join(IMAGENET_SETS)}")
    position = {name: i for i, name in enumerate(classes)}
    missing = [n for n in IMAGENET_SETS[kind] if n not in position]
    if missing:
        raise KeyError(f"the model's classes lack {', '.join(missing[:5])} of kind {kind!r}: not an ImageNet model?")
    return [position[n] for n in IMAGENET_SETS[kind]]


def recognition(judges: Mapping[str, WrappedModel], kinds: Sequence[str] | None = None, *, size: int = 128,
                per_object: int = 3, seed: int = 0, backgrounds: Sequence[str] | None = None,
                upsample: bool = False) -> list[dict]:
    """How well each judge recognises real composites of each kind: a row per (kind, judge) with the mean
    set mass (``confidence``), the rate of top-1 classes inside the set (``top1_in_set``) and chance (set
    size / classes). Every cut-out of the kind (default: every kind with enough), ``per_object`` times, on
    the held-out photos (default), as held-out references are; ``upsample`` resizes to each judge's input."""
    kinds = check_kinds(kinds if kinds is not None else [k for k, n in kind_counts().items() if n >= MIN_OBJECTS])
    photos = list(backgrounds) if backgrounds is not None else split_backgrounds()[1]
    images, labels = composites(kinds, size=size, per_object=per_object, seed=seed, backgrounds=photos).tensors(
        (size, size))
    rows = []
    for judge_name, judge in judges.items():
        batch = (F.interpolate(images, size=judge.input_size, mode="bilinear", antialias=True,
                               align_corners=False).clamp(0, 1) if upsample else images)
        probs = probabilities(judge, batch, 64)
        for label, kind in enumerate(kinds):
            mass, top1 = set_scores(probs[labels == label], class_indices(kind, judge.classes))
            rows.append({"kind": kind, "judge": judge_name, "images": len(mass), "confidence": float(mass.mean()),
                         "top1_in_set": float(top1.mean()), "chance": len(IMAGENET_SETS[kind]) / probs.shape[1]})
    return rows
