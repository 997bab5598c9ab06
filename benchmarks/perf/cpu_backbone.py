"""CPU seconds of a backbone made to run on a CPU (the demo's miniature prior): the figures behind
:data:`benchmarks.runner.cost.CPU_SECONDS`, which dry-runs turn into expected CPU minutes.

One prompt-training step is the real :class:`ypt.train.PromptTrainer` step at the backbone's recipe (batch, crop
size) on in-memory latents; one restored image is :class:`ypt.restore.Restorer` at the backbone's image size (20 EBR
steps, windowed attention, encode and decode included). Each is the median of ``--repeats`` timed rounds after one
warm-up, on ``--threads`` torch threads (default 1: a CPU unit's share of a 2-core machine).

    python -m benchmarks.perf.cpu_backbone [--backbone mini] [--steps 50] [--images 4] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence

from ypt.cli import add_debug_argument, entry_point


def _median_seconds(work: Callable[[], None], per: int, repeats: int) -> float:
    work()  # warm-up
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        rounds.append((time.perf_counter() - start) / per)
    return statistics.median(rounds)


def measure(backbone: str = "mini", steps: int = 50, images: int = 4, repeats: int = 3) -> dict[str, float]:
    """``{"train_step": s, "image": s}`` for ``backbone`` on this machine's CPU."""
    import torch

    from ypt.backbones import load_backbone
    from ypt.backbones.prompting import new_prompt
    from ypt.bridges import make_bridge
    from ypt.defaults import MINI_SIZE
    from ypt.pairs import LatentPairs
    from ypt.restore import Restorer
    from ypt.train import PromptTrainer, TrainConfig

    config = TrainConfig(backbone=backbone)
    model = load_backbone(backbone, device="cpu")
    g = torch.Generator().manual_seed(0)
    crop = config.geometry["size"]
    with torch.no_grad():
        latents = [(model.encode(torch.rand(1, 3, *crop, generator=g))[0],
                    model.encode(torch.rand(1, 3, *crop, generator=g))[0]) for _ in range(4 * config.batch_size)]
    prompt = new_prompt(config.variant, model, generator=torch.Generator().manual_seed(0))
    trainer = PromptTrainer(model, prompt, make_bridge(config.bridge, config.t0, config.t_min), LatentPairs(latents),
                            config)

    def train() -> None:
        for _ in range(steps):
            trainer.step()

    restorer = Restorer(model, [prompt], image_size=(MINI_SIZE, MINI_SIZE))
    pictures = [torch.rand(3, MINI_SIZE, MINI_SIZE, generator=g) for _ in range(images)]
    return {"train_step": _median_seconds(train, steps, repeats),
            "image": _median_seconds(lambda: restorer.restore_images(pictures), images, repeats)}


@entry_point
def main(argv: Sequence[str] | None = None) -> int:
    from ypt.backbones import CPU_BACKBONES

    p = argparse.ArgumentParser(prog="python -m benchmarks.perf.cpu_backbone", description=__doc__.split("\n\n")[0])
    p.add_argument("--backbone", choices=sorted(CPU_BACKBONES), default="mini")
    p.add_argument("--steps", type=int, default=50, help="training steps per timed round")
    p.add_argument("--images", type=int, default=4, help="images per timed round")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    add_debug_argument(p)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    seconds = measure(args.backbone, args.steps, args.images, args.repeats)
    print(json.dumps({"backbone": args.backbone, "threads": args.threads, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
