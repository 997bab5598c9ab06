"""Haze: RESIDE (SOTS-outdoor test, OTS train), HazeRD, REVIDE (video, and its frames as images), RHVD."""
from benchmarks.datasets.families._common import (
    IMG,
    IMG_JSONS,
    TRAIN_FRAMES,
    VID,
    VID_JSONS,
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
        key="reside_sots", display_name="RESIDE SOTS-outdoor", modality="image", degradation=("haze",),
        role="wd-test", paired=True, expected_count=500, source_url=RESIDE_URL, citation=RESIDE_CITE,
        license_note=RESIDE_LICENSE,
        layouts=(bundle(f"{IMG}/RESIDE/hazy", f"{IMG}/RESIDE/GT|gt|clear", target_name=RESIDE_TARGET,
                        manifest=f"{IMG_JSONS}/RESIDE.json"),
            original("SOTS/outdoor/hazy", "SOTS/outdoor/gt|clear", "hazy/<id>_<A>_<beta>.jpg -> gt|clear/<id>.png",
                     target_name=RESIDE_TARGET)),
    ),
    DatasetSpec(
        key="reside_ots_train", display_name="RESIDE OTS (train)", modality="image", degradation=("haze",),
        role="train", paired=True, expected_count=72135, source_url=RESIDE_URL, citation=RESIDE_CITE,
        license_note=RESIDE_LICENSE,
        layouts=(original("OTS/hazy|OTS_BETA/hazy|OTS_BETA/haze|RESIDE/OTS/hazy", "OTS/clear|OTS/gt|OTS_BETA/clear|RESIDE/OTS/clear",
            "hazy/[partN/]<id>_<A>_<beta>.jpg -> clear|gt/<id>.jpg (many inputs per target)", target_name=RESIDE_TARGET,
            recursive=True),),
    ),
    DatasetSpec(
        key="hazerd", display_name="HazeRD", modality="image", degradation=("haze",), role="ood", paired=True,
        expected_count=75,
        source_url="https://labsites.rochester.edu/gsharma/research/"
            "computer-vision/hazerd/",
        citation="Zhang et al., HazeRD: an outdoor scene dataset and benchmark for single image "
            "dehazing, ICIP 2017",
        license_note="research use",
        layouts=(bundle(f"{IMG}/HazeRD/Test/Hazy", f"{IMG}/HazeRD/Test/GT", target_name=regex_map(r"(.+)_\d+", r"\1_RGB"),
                        manifest=f"{IMG_JSONS}/HazeRD.json"),
            original("HazeRD/hazy|HazeRD/simu", "HazeRD/img|HazeRD/gt", "IMG_<n>_<visibility>.jpg -> IMG_<n>_RGB.jpg",
                     target_name=regex_map(r"(.+)_\d+", r"\1_RGB"))),
    ),
    DatasetSpec(
        key="revide", display_name="REVIDE (test)", modality="video", degradation=("haze",), role="wd-test",
        paired=True, expected_count=6, source_url="https://github.com/BookerDeWitt/REVIDE_Dataset",
        citation="Zhang et al., Learning to Restore Hazy Video: A New Real-World Dataset and a New Method, CVPR 2021",
        license_note="research use",
        layouts=(bundle(f"{VID}/video2video/Haze/Real/REVIDE/Test/hazy", f"{VID}/video2video/Haze/Real/REVIDE/Test/GT",
                        manifest=f"{VID_JSONS}/REVIDE_test.json"),
            original("REVIDE/Test/hazy", "REVIDE/Test/gt|GT", "Test/hazy/<scene>/<frame> -> Test/gt/<scene>/<frame>")),
    ),
    DatasetSpec(
        key="revide_frames", display_name="REVIDE test frames (as images)", modality="image", degradation=("haze",),
        role="wd-test", paired=True, expected_count=284, source_url="https://github.com/BookerDeWitt/REVIDE_Dataset",
        citation="Zhang et al., CVPR 2021", license_note="research use",
        layouts=(bundle(f"{IMG}/REVIDE/Test/hazy", f"{IMG}/REVIDE/Test/GT", recursive=True,
                        manifest=f"{IMG_JSONS}/REVIDE.json"),
            original("REVIDE/Test/hazy", "REVIDE/Test/gt|GT", "Test/hazy/<scene>/<frame> -> Test/gt/<scene>/<frame>",
                     recursive=True)),
    ),
    DatasetSpec(
        key="revide_train", display_name="REVIDE (train)", modality="video", degradation=("haze",), role="train",
        paired=True, expected_count=42, source_url="https://github.com/BookerDeWitt/REVIDE_Dataset",
        citation="Zhang et al., CVPR 2021", license_note="research use",
        layouts=(original("REVIDE/Train/hazy", "REVIDE/Train/gt|GT", "Train/hazy/<scene>/<frame> -> Train/gt/<scene>/<frame>"),),
        max_frames=TRAIN_FRAMES, notes="the paper trains on 40 clips",
    ),
    DatasetSpec(
        key="rhvd", display_name="RHVD", modality="video", degradation=("haze",), role="ood", paired=False,
        expected_count=20, source_url="https://github.com/jiaqixuac/MAP-Net",
        citation="Xu et al., Video Dehazing via a Multi-Range Temporal Alignment Network with Physical Prior, CVPR 2023",
        license_note="research use",
        layouts=(bundle(f"{VID}/RHVD", None, manifest=f"{VID_JSONS}/RHVD_test_pruned.json"), original("RHVD/test|./RHVD", None, "<clip>/<frame>.png (no reference)")),
        notes="the paper evaluates a pruned list of 20 clips; a full release has more (check reports the count)",
    ),
)
