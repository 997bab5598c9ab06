"""Blur: GoPro (train, test images, test video), 4KRD (images and video)."""
from benchmarks.datasets.families._common import (
    IMG,
    TRAIN_FRAMES,
    VID,
    DatasetSpec,
    bundle,
    drop_component,
    original,
    regex_map,
)

GOPRO_URL = "https://seungjunnah.github.io/Datasets/gopro"
GOPRO_CITE = "Nah et al., Deep Multi-Scale Convolutional Neural Network for Dynamic Scene Deblurring, CVPR 2017"
FOURKRD_URL = "https://github.com/chaofengc/4KRD"
FOURKRD_CITE = "4KRD: a 4K real-world deblurring dataset"
GOPRO_SHARP = regex_map(r"(.+)/blur/(.+)", r"\1/sharp/\2")


def gopro_blur(rel: str) -> bool:
    return "/blur/" in f"/{rel.lower()}"


SPECS = (
    DatasetSpec(
        "gopro", "GoPro (test)", "image", ("blur",), "wd-test", True, 1111, GOPRO_URL, GOPRO_CITE, "CC BY 4.0",
        (bundle(f"{IMG}/GoPro/Blur", f"{IMG}/GoPro/GT", recursive=True, sample_id=drop_component("fol")),
         original("GOPRO_Large/test|GoPro/test", "GOPRO_Large/test|GoPro/test", "<seq>/blur/<n>.png -> "
                  "<seq>/sharp/<n>.png", recursive=True, keep=gopro_blur, target_name=GOPRO_SHARP,
                  sample_id=drop_component("blur")))),
    DatasetSpec(
        "gopro_train", "GoPro (train)", "image", ("blur",), "train", True, 2103, GOPRO_URL, GOPRO_CITE, "CC BY 4.0",
        (original("GOPRO_Large/train|GoPro/train", "GOPRO_Large/train|GoPro/train",
                  "<seq>/blur/<n>.png -> <seq>/sharp/<n>.png", recursive=True, keep=gopro_blur,
                  target_name=GOPRO_SHARP, sample_id=drop_component("blur")),)),
    DatasetSpec(
        "gopro_video", "GoPro (test clips)", "video", ("blur",), "wd-test", True, 11, GOPRO_URL, GOPRO_CITE,
        "CC BY 4.0",
        (bundle(f"{VID}/GenIRData/Motion blur/Real/GoPro/Test/Blur", f"{VID}/GenIRData/Motion blur/Real/GoPro/Test/GT"),
         original("GOPRO_Large/test|GoPro/test", "GOPRO_Large/test|GoPro/test",
                  "<seq>/blur/<frame> -> <seq>/sharp/<frame>", frame_filter="/blur/", target_name=GOPRO_SHARP))),
    DatasetSpec(
        "gopro_video_train", "GoPro (train clips)", "video", ("blur",), "train", True, 22, GOPRO_URL, GOPRO_CITE,
        "CC BY 4.0",
        (original("GOPRO_Large/train|GoPro/train", "GOPRO_Large/train|GoPro/train",
                  "<seq>/blur/<frame> -> <seq>/sharp/<frame>", frame_filter="/blur/", target_name=GOPRO_SHARP),),
        max_frames=TRAIN_FRAMES),
    DatasetSpec(
        "4krd", "4KRD", "image", ("blur",), "ood", True, 300, FOURKRD_URL, FOURKRD_CITE, "research use",
        (bundle(f"{IMG}/4KRD/test/input300", f"{IMG}/4KRD/test/gt300"),
         original("4KRD/test/input300|4KRD/test/input", "4KRD/test/gt300|4KRD/test/gt", "input/<clip>_<n>.jpg -> "
                  "gt/<clip>_<n>.jpg"))),
    DatasetSpec(
        "4krd_video", "4KRD (clips)", "video", ("blur",), "ood", True, 9, FOURKRD_URL, FOURKRD_CITE, "research use",
        (bundle(f"{VID}/4KRD/test/input300", f"{VID}/4KRD/test/gt300", clip_prefix=r"VID_\d+"),
         original("4KRD/test/input300|4KRD/test/input", "4KRD/test/gt300|4KRD/test/gt",
                  "input/VID_<clip>_<n>.jpg -> gt/VID_<clip>_<n>.jpg (clips by VID prefix)", clip_prefix=r"VID_\d+"))),
)
