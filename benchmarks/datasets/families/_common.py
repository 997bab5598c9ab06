"""Shorthands for the family modules."""
from benchmarks.datasets.spec import (  # noqa: F401
    BUNDLE_LAYOUT,
    DatasetSpec,
    Layout,
    drop_component,
    regex_map,
    same_name,
)

IMG = "test_img_data"   # the authors' evaluation bundle, image part
VID = "test_vid_data"   # ... and video part
IMG_JSONS = "test_img_jsons"   # the authors' manifests beside it (exact sample lists), image sets
VID_JSONS = "test_vid_jsons"   # ... and video sets
TRAIN_FRAMES = 10 ** 9  # training clips keep every frame (windows are drawn at training time)


def bundle(inputs: str, targets: str | None, **kw) -> Layout:
    """The authors' evaluation bundle; ``manifest``: its manifest (``test_img_jsons/<name>.json``), the exact list."""
    return Layout(BUNDLE_LAYOUT, inputs, targets, description="the authors' evaluation bundle", **kw)


def original(inputs: str, targets: str | None, description: str, name: str = "original", **kw) -> Layout:
    return Layout(name, inputs, targets, description=description, **kw)
