"""Retrain the committed Fashion-MNIST models (`make weights`): subject, judge, second judge (MLP-Mixer), the 30-class
modified-look subject, and the generators inverting the subject's fc1 (late), pool2 (middle) and pool1
(early) code, and a fc1 generator trained on all three looks.

Deterministic on CPU: fixed seed, fixed thread count, deterministic kernels. Writes
``stochvis/weights/<name>.{safetensors,json}`` (names: fashion_subject, fashion_judge,
fashion_judge2, fashion_subject_modified, fashion_generator, fashion_generator_pool2, fashion_generator_pool1,
fashion_generator_looks); each
JSON records the config, seed, epochs, measured minutes, test accuracy and the file's sha256.

The classifiers train at once in one process of one thread each (no thread pool: on a shared,
oversubscribed machine a 2-thread pool spends most of its time spinning at barriers — we measured
4-5× slower epochs), then the generators, which need the subject.
Bit-for-bit reproduction needs the same thread count (``--threads``, recorded in each JSON).

    python scripts/train_fashion.py [--only PART ...] [--threads 1]   (parts: see --help)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import subprocess
import sys
import time

import torch

from stochvis import assets
from stochvis.data import fashion_mnist
from stochvis.inputs import as_float_images
from stochvis.worlds.fashion import (
    WEIGHTS_DIR,
    FashionConvGenerator,
    FashionGenerator,
    FashionMixer,
    FashionResNet,
    FashionVGG,
    load_subject,
    wrap_judge,
    wrap_second_judge,
    wrap_subject,
)
from stochvis.worlds.fashion_looks import (
    BLUR_SIGMA,
    MODIFIED_CLASSES,
    accuracy_per_look,
    modified_dataset,
    wrap_modified_subject,
)
from stochvis.worlds.fashion_training import (
    GeneratorConfig,
    TrainConfig,
    accuracy,
    code_statistics,
    make_deterministic,
    reconstruction_error,
    train_classifier,
    train_generator,
)

SUBJECT = {"widths": [32, 64, 128], "code_dim": 256}
JUDGE = {"stem": 32, "widths": [64, 128], "pool": 2}
JUDGE2 = {"dim": 64, "depth": 4, "patch": 4, "token_hidden": 64, "channel_hidden": 256}  # FashionMixer
GENERATOR = {"code_dim": 256, "widths": [32, 64, 32, 16]}
GENERATOR_POOL1 = {"code_shape": [32, 14, 14], "widths": [64, 32, 16]}
GENERATOR_POOL2 = {"code_shape": [64, 7, 7], "widths": [64, 32, 16]}
# what each part needs: the first group trains at once (one process each), then the generators
FIRST = ("subject", "judge", "judge2", "subject_modified")
SECOND = ("generator", "generator_pool1", "generator_pool2", "generator_looks")
PARTS = FIRST + SECOND


def save(name: str, state: dict[str, torch.Tensor], record: dict) -> None:
    from safetensors.torch import save

    data = save({key: tensor.detach().cpu().contiguous() for key, tensor in state.items()})
    path = WEIGHTS_DIR / f"{name}.safetensors"
    assets.atomic_write_bytes(path, data)
    record["file"] = path.name
    record["bytes"] = len(data)
    record["sha256"] = hashlib.sha256(data).hexdigest()
    assets.atomic_write_bytes(WEIGHTS_DIR / f"{name}.json", (json.dumps(record, indent=2) + "\n").encode())
    print(f"wrote {path} ({len(data) / 1e6:.2f} MB): {json.dumps({k: v for k, v in record.items() if k != 'config'})}")


def environment(threads: int) -> dict:
    return {"torch": torch.__version__, "python": platform.python_version(), "threads": threads,
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def classifier(name: str, model, images, labels, test: tuple, config: TrainConfig, threads: int, extra: dict,
               measure=None) -> None:  # noqa: ANN001
    """Train one classifier and save it with its record (config, timing, test accuracy, and
    whatever ``measure(model)`` returns)."""
    make_deterministic(config.seed, threads)
    env = environment(threads)
    started, cpu_started = time.perf_counter(), time.process_time()
    train_classifier(model, images, labels, config)
    # minutes: wall clock, which on a shared machine includes waiting for a core; cpu_minutes: the
    # process's CPU time, what the recipe costs on one free core
    record = {"model": type(model.net).__name__, **extra, "training": dataclasses.asdict(config), "seed": config.seed,
              "epochs": config.epochs, "minutes": round((time.perf_counter() - started) / 60, 2),
              "cpu_minutes": round((time.process_time() - cpu_started) / 60, 2)}
    record["test_accuracy"] = accuracy(model, *test)
    if measure is not None:
        record.update(measure(model))
    record.update({"environment": env, "fingerprint": model.fingerprint})
    save(name, model.net.state_dict(), record)


def generator_part(name: str, generator, code_layer: str, config: dict, seed: int, epochs: int, threads: int,
                   train_images, test_images, data: str = "the 60k training images") -> None:
    """Train G to invert the subject's ``code_layer`` on ``train_images`` (uint8 or float; described
    by ``data``); store the code statistics (over the same images) with it."""
    make_deterministic(seed, threads)
    training = GeneratorConfig(epochs=epochs, seed=seed, code_layer=code_layer)
    env = environment(threads)
    subject = load_subject("cpu")
    started = time.perf_counter()
    train_generator(generator, subject, as_float_images(train_images), training)
    for key, value in code_statistics(subject, train_images, code_layer).items():
        getattr(generator, key).copy_(value)
    minutes = (time.perf_counter() - started) / 60
    save(name, generator.state_dict(), {
        "model": type(generator).__name__, "config": config, "training": dataclasses.asdict(training), "seed": seed,
        "epochs": epochs, "minutes": round(minutes, 2),
        "test_reconstruction_mse": reconstruction_error(generator, subject, test_images, code_layer),
        "subject_fingerprint": subject.fingerprint,
        "data": data,
        "code_statistics": f"buffers code_mean/code_std/code_max: subject {code_layer} over {data}",
        "environment": env,
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=PARTS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subject-epochs", type=int, default=4)
    parser.add_argument("--judge-epochs", type=int, default=5)
    parser.add_argument("--judge2-epochs", type=int, default=5)
    parser.add_argument("--generator-epochs", type=int, default=2)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs as it happens
    passed = [f"--threads={args.threads}", f"--seed={args.seed}", f"--subject-epochs={args.subject_epochs}",
              f"--judge-epochs={args.judge_epochs}", f"--judge2-epochs={args.judge2_epochs}",
              f"--generator-epochs={args.generator_epochs}"]
    if args.only is None or len(args.only) > 1:  # one process per part; generators need the subject first
        for group in (FIRST, SECOND):
            parts = [part for part in group if args.only is None or part in args.only]
            workers = [subprocess.Popen([sys.executable, __file__, "--only", part, *passed]) for part in parts]
            if any(worker.wait() != 0 for worker in workers):
                sys.exit(f"training failed in one of {parts}")
        return

    part = args.only[0]
    train_images, train_labels = fashion_mnist("train")
    test_images, test_labels = fashion_mnist("test")
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    print(part)
    if part == "subject":
        model = wrap_subject(FashionVGG(tuple(SUBJECT["widths"]), SUBJECT["code_dim"]))
        classifier("fashion_subject", model, as_float_images(train_images), train_labels, (test_images, test_labels),
                   TrainConfig(epochs=args.subject_epochs, seed=args.seed), args.threads, {"config": SUBJECT})
    elif part == "judge":
        model = wrap_judge(FashionResNet(JUDGE["stem"], tuple(JUDGE["widths"]), pool=JUDGE["pool"]))
        classifier("fashion_judge", model, as_float_images(train_images), train_labels, (test_images, test_labels),
                   TrainConfig(epochs=args.judge_epochs, seed=args.seed + 1), args.threads, {"config": JUDGE})
    elif part == "judge2":  # a second judge of another family (MLP-Mixer): realism under two judges
        make_deterministic(args.seed + 8, args.threads)  # the initial weights come from this seed too
        net = FashionMixer(**JUDGE2)
        model = wrap_second_judge(net)
        classifier("fashion_judge2", model, as_float_images(train_images), train_labels, (test_images, test_labels),
                   TrainConfig(epochs=args.judge2_epochs, seed=args.seed + 8), args.threads,
                   {"config": JUDGE2, "parameters": sum(p.numel() for p in net.parameters()), "pool_dim": JUDGE2["dim"]})
    elif part == "subject_modified":
        images, labels = modified_dataset(train_images, train_labels, seed=args.seed + 3)
        test = modified_dataset(test_images, test_labels, seed=args.seed + 4)
        model = wrap_modified_subject(FashionVGG(tuple(SUBJECT["widths"]), SUBJECT["code_dim"], classes=len(MODIFIED_CLASSES)))
        classifier("fashion_subject_modified", model, images, labels, test,
                   TrainConfig(epochs=args.subject_epochs, seed=args.seed + 3), args.threads,
                   {"config": SUBJECT, "classes": MODIFIED_CLASSES,
                    "data": f"each training image kept, inverted or blurred (sigma {BLUR_SIGMA} px), a third each"},
                   measure=lambda model: {"test_accuracy_per_look": accuracy_per_look(model, test_images, test_labels)})
    elif part == "generator":
        generator_part("fashion_generator", FashionGenerator(GENERATOR["code_dim"], tuple(GENERATOR["widths"])), "fc1",
                       GENERATOR, args.seed + 2, args.generator_epochs, args.threads, train_images, test_images)
    elif part == "generator_pool1":
        generator = FashionConvGenerator(tuple(GENERATOR_POOL1["code_shape"]), tuple(GENERATOR_POOL1["widths"]))
        generator_part("fashion_generator_pool1", generator, "pool1", GENERATOR_POOL1, args.seed + 5,
                       args.generator_epochs, args.threads, train_images, test_images)
    elif part == "generator_pool2":
        generator = FashionConvGenerator(tuple(GENERATOR_POOL2["code_shape"]), tuple(GENERATOR_POOL2["widths"]))
        generator_part("fashion_generator_pool2", generator, "pool2", GENERATOR_POOL2, args.seed + 6,
                       args.generator_epochs, args.threads, train_images, test_images)
    elif part == "generator_looks":  # the prior-or-network control: G's data holds the modified looks too
        images, _ = modified_dataset(train_images, train_labels, seed=args.seed + 3)
        test, _ = modified_dataset(test_images, test_labels, seed=args.seed + 4)
        generator_part("fashion_generator_looks", FashionGenerator(GENERATOR["code_dim"], tuple(GENERATOR["widths"])),
                       "fc1", GENERATOR, args.seed + 7, args.generator_epochs, args.threads, images, test,
                       data="the 60k training images, each kept, inverted or blurred (a third each)")


if __name__ == "__main__":
    main()
