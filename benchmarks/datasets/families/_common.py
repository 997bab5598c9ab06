"""Shorthands for the family modules."""
from benchmarks.datasets.spec import (  # noqa: F401
    DatasetSpec,
    Layout,
    drop_component,
    regex_map,
    same_name,
)

IMG = "test_img_data"   # the authors' evaluation bundle, image part
VID = "test_vid_data"   # ... and video part
TRAIN_FRAMES = 10 ** 9  # training clips keep every frame (windows are drawn at training time)


def bundle(inputs: str, targets: str | None, **kw) -> Layout:
    return Layout("ypt-bundle", inputs, targets, description="the authors' evaluation bundle", **kw)


def original(inputs: str, targets: str | None, description: str, name: str = "original", **kw) -> Layout:
    return Layout(name, inputs, targets, description=description, **kw)
