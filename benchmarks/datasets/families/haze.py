"""Haze: RESIDE (SOTS-outdoor test, OTS train), HazeRD, REVIDE (video, and its frames as images), RHVD."""
from benchmarks.datasets.families._common import (
    IMG,
    TRAIN_FRAMES,
    VID,
    DatasetSpec,
    bundle,
    original,
    regex_map,
)

RESIDE_URL = "https://sites.google.com/view/reside-dehaze-datasets"
RESIDE_CITE = "Li et al., Benchmarking Single-Image Dehazing and Beyond, TIP 2019"
RESIDE_LICENSE = "research use; see the RESIDE site"
#: RESIDE names a hazy image <id>_<A>_<beta>; its clean target is <id> (many inputs per target). OTS splits its hazy
#: images into part1..part4 folders beside one flat clear folder, so the folder part is dropped.
RESIDE_TARGET = regex_map(r"(?:.*/)?([^_/]+)_[^/]*", r"\1")

SPECS = (
    DatasetSpec(
        "reside_sots", "RESIDE SOTS-outdoor", "image", ("haze",), "wd-test", True, 500, RESIDE_URL, RESIDE_CITE,
        RESIDE_LICENSE,
        (bundle(f"{IMG}/RESIDE/hazy", f"{IMG}/RESIDE/GT|gt|clear", target_name=RESIDE_TARGET),
         original("SOTS/outdoor/hazy", "SOTS/outdoor/gt|clear", "hazy/<id>_<A>_<beta>.jpg -> gt|clear/<id>.png",
                  target_name=RESIDE_TARGET))),
    DatasetSpec(
        "reside_ots_train", "RESIDE OTS (train)", "image", ("haze",), "train", True, 72135, RESIDE_URL, RESIDE_CITE,
        RESIDE_LICENSE,
        (original("OTS/hazy|OTS_BETA/hazy|OTS_BETA/haze|RESIDE/OTS/hazy", "OTS/clear|OTS/gt|OTS_BETA/clear|RESIDE/OTS/clear",
                  "hazy/[partN/]<id>_<A>_<beta>.jpg -> clear|gt/<id>.jpg (many inputs per target)", target_name=RESIDE_TARGET,
                  recursive=True),)),
    DatasetSpec(
        "hazerd", "HazeRD", "image", ("haze",), "ood", True, 75, "https://labsites.rochester.edu/gsharma/research/"
        "computer-vision/hazerd/", "Zhang et al., HazeRD: an outdoor scene dataset and benchmark for single image "
        "dehazing, ICIP 2017", "research use",
        (bundle(f"{IMG}/HazeRD/Test/Hazy", f"{IMG}/HazeRD/Test/GT", target_name=regex_map(r"(.+)_\d+", r"\1_RGB")),
         original("HazeRD/hazy|HazeRD/simu", "HazeRD/img|HazeRD/gt", "IMG_<n>_<visibility>.jpg -> IMG_<n>_RGB.jpg",
                  target_name=regex_map(r"(.+)_\d+", r"\1_RGB")))),
    DatasetSpec(
        "revide", "REVIDE (test)", "video", ("haze",), "wd-test", True, 6, "https://github.com/BookerDeWitt/REVIDE_Dataset",
        "Zhang et al., Learning to Restore Hazy Video: A New Real-World Dataset and a New Method, CVPR 2021",
        "research use",
        (bundle(f"{VID}/video2video/Haze/Real/REVIDE/Test/hazy", f"{VID}/video2video/Haze/Real/REVIDE/Test/GT"),
         original("REVIDE/Test/hazy", "REVIDE/Test/gt|GT", "Test/hazy/<scene>/<frame> -> Test/gt/<scene>/<frame>"))),
    DatasetSpec(
        "revide_frames", "REVIDE test frames (as images)", "image", ("haze",), "wd-test", True, 284,
        "https://github.com/BookerDeWitt/REVIDE_Dataset", "Zhang et al., CVPR 2021", "research use",
        (bundle(f"{IMG}/REVIDE/Test/hazy", f"{IMG}/REVIDE/Test/GT", recursive=True),
         original("REVIDE/Test/hazy", "REVIDE/Test/gt|GT", "Test/hazy/<scene>/<frame> -> Test/gt/<scene>/<frame>",
                  recursive=True))),
    DatasetSpec(
        "revide_train", "REVIDE (train)", "video", ("haze",), "train", True, 42,
        "https://github.com/BookerDeWitt/REVIDE_Dataset", "Zhang et al., CVPR 2021", "research use",
        (original("REVIDE/Train/hazy", "REVIDE/Train/gt|GT", "Train/hazy/<scene>/<frame> -> Train/gt/<scene>/<frame>"),),
        max_frames=TRAIN_FRAMES, notes="the paper trains on 40 clips"),
    DatasetSpec(
        "rhvd", "RHVD", "video", ("haze",), "ood", False, 20, "https://github.com/jiaqixuac/MAP-Net",
        "Xu et al., Video Dehazing via a Multi-Range Temporal Alignment Network with Physical Prior, CVPR 2023",
        "research use",
        (bundle(f"{VID}/RHVD", None), original("RHVD/test|./RHVD", None, "<clip>/<frame>.png (no reference)")),
        notes="the paper evaluates a pruned list of 20 clips; a full release has more (check reports the count)"),
)
