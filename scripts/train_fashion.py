"""Retrain the committed Fashion-MNIST models (`make weights`): subject, judge, generator.

Deterministic on CPU: fixed seed, fixed thread count, deterministic kernels. Writes
``stochvis/weights/{fashion_subject,fashion_judge,fashion_generator}.{safetensors,json}``; each
JSON records the config, seed, epochs, measured minutes, test accuracy and the file's sha256.

Subject and judge train at once in two processes of one thread each (two cores used, no thread
pool: on a shared, oversubscribed machine a 2-thread pool spends most of its time spinning at
barriers — we measured 4-5× slower epochs), then the generator, which needs the subject.
Bit-for-bit reproduction needs the same thread count (``--threads``, recorded in each JSON).

    python scripts/train_fashion.py [--only subject judge generator] [--threads 1]
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
from stochvis.fashion import (
    WEIGHTS_DIR,
    FashionGenerator,
    FashionResNet,
    FashionVGG,
    GeneratorConfig,
    TrainConfig,
    accuracy,
    as_float,
    code_statistics,
    load_subject,
    make_deterministic,
    reconstruction_error,
    train_classifier,
    train_generator,
    wrap_judge,
    wrap_subject,
)

SUBJECT = {"widths": [32, 64, 128], "code_dim": 256}
JUDGE = {"stem": 32, "widths": [64, 128], "pool": 2}
GENERATOR = {"code_dim": 256, "widths": [32, 64, 32, 16]}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=["subject", "judge", "generator"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subject-epochs", type=int, default=4)
    parser.add_argument("--judge-epochs", type=int, default=5)
    parser.add_argument("--generator-epochs", type=int, default=2)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows up in logs as it happens
    if args.only is None:  # everything: subject ∥ judge, then the generator
        passed = [f"--threads={args.threads}", f"--seed={args.seed}", f"--subject-epochs={args.subject_epochs}",
                  f"--judge-epochs={args.judge_epochs}", f"--generator-epochs={args.generator_epochs}"]
        workers = [subprocess.Popen([sys.executable, __file__, "--only", part, *passed]) for part in ("subject", "judge")]
        if any(worker.wait() != 0 for worker in workers):
            sys.exit("subject or judge training failed")
        args.only = ["generator"]

    train_images, train_labels = fashion_mnist("train")
    test_images, test_labels = fashion_mnist("test")
    train_x = as_float(train_images)
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)

    if "subject" in args.only:
        print("subject (VGG-style)")
        make_deterministic(args.seed, args.threads)
        config = TrainConfig(epochs=args.subject_epochs, seed=args.seed)
        env = environment(args.threads)
        started = time.perf_counter()
        model = wrap_subject(FashionVGG(tuple(SUBJECT["widths"]), SUBJECT["code_dim"]))
        train_classifier(model, train_x, train_labels, config)
        minutes = (time.perf_counter() - started) / 60
        acc = accuracy(model, test_images, test_labels)
        save("fashion_subject", model.net.state_dict(), {
            "model": "FashionVGG", "config": SUBJECT, "training": dataclasses.asdict(config), "seed": args.seed,
            "epochs": config.epochs, "minutes": round(minutes, 2), "test_accuracy": acc, "environment": env,
            "fingerprint": model.fingerprint,
        })

    if "judge" in args.only:
        print("judge (small ResNet)")
        make_deterministic(args.seed + 1, args.threads)
        config = TrainConfig(epochs=args.judge_epochs, seed=args.seed + 1)
        env = environment(args.threads)
        started = time.perf_counter()
        model = wrap_judge(FashionResNet(JUDGE["stem"], tuple(JUDGE["widths"]), pool=JUDGE["pool"]))
        train_classifier(model, train_x, train_labels, config)
        minutes = (time.perf_counter() - started) / 60
        acc = accuracy(model, test_images, test_labels)
        save("fashion_judge", model.net.state_dict(), {
            "model": "FashionResNet", "config": JUDGE, "training": dataclasses.asdict(config), "seed": args.seed + 1,
            "epochs": config.epochs, "minutes": round(minutes, 2), "test_accuracy": acc, "environment": env,
            "fingerprint": model.fingerprint,
        })

    if "generator" in args.only:
        print("generator (inverts the subject's fc1 code)")
        make_deterministic(args.seed + 2, args.threads)
        config = GeneratorConfig(epochs=args.generator_epochs, seed=args.seed + 2)
        env = environment(args.threads)
        subject = load_subject("cpu")
        started = time.perf_counter()
        generator = FashionGenerator(GENERATOR["code_dim"], tuple(GENERATOR["widths"]))
        train_generator(generator, subject, train_x, config)
        stats = code_statistics(subject, train_images, config.code_layer)
        for key, value in stats.items():
            getattr(generator, key).copy_(value)
        minutes = (time.perf_counter() - started) / 60
        error = reconstruction_error(generator, subject, test_images)
        save("fashion_generator", generator.state_dict(), {
            "model": "FashionGenerator", "config": GENERATOR, "training": dataclasses.asdict(config),
            "seed": args.seed + 2, "epochs": config.epochs, "minutes": round(minutes, 2),
            "test_reconstruction_mse": error, "subject_fingerprint": subject.fingerprint,
            "code_statistics": "buffers code_mean/code_std/code_max: subject fc1 over the 60k training images",
            "environment": env,
        })


if __name__ == "__main__":
    main()
