"""Two gloo processes, each collecting half the images, all-reduce to the one-process statistics."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from stochvis import stats as S

LAYERS = ["conv1", "conv3"]
OPTIONS = dict(maps=["conv3"], full_dim_limit=100, projection_dim=16, joint="consecutive", batch_size=5, progress=False)


def _images():
    index = torch.arange(30)
    # class "c" only at odd indices: rank 0 (even shard) never sees it and must join with zero weight
    labels = torch.where(index % 6 == 1, 2, (index // 2) % 2)
    return torch.rand(30, 3, 16, 16, generator=torch.Generator().manual_seed(11)), labels


def _worker(rank: int, world: int, init_file: str, out_dir: str) -> None:
    from conftest import make_tiny

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        model = make_tiny()
        per_class = S.collect_classes(model, _images(), LAYERS, classes=["a", "b", "c"], distributed=True, **OPTIONS)
        everything = S.collect(model, _images()[0], LAYERS, distributed=True, **OPTIONS)
        for name, stats in {**per_class, "all": everything}.items():
            stats.save(f"{out_dir}/rank{rank}_{name}.safetensors")
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_equal_one_process(tmp_path):
    from conftest import make_tiny

    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    model = make_tiny()
    single = S.collect_classes(model, _images(), LAYERS, classes=["a", "b", "c"], **OPTIONS)
    single["all"] = S.collect(model, _images()[0], LAYERS, **OPTIONS)
    worst = 0.0
    for name, expected in single.items():
        for rank in (0, 1):
            got = S.Statistics.load(tmp_path / f"rank{rank}_{name}.safetensors", model)
            assert got.meta["world_size"] == 2 and got.count == expected.count
            assert got.keys() == expected.keys()
            for key in expected.keys():
                assert got[key].parts == expected[key].parts
                for field in ("mean", "m2", "minimum", "maximum", "histogram"):
                    difference = (getattr(got[key], field) - getattr(expected[key], field)).abs().max().item()
                    worst = max(worst, difference)
    print(f"largest |2-process - 1-process| difference: {worst:.2e}")
    assert worst < 1e-10, worst
