"""Blur: GoPro (train, test images, test video), 4KRD (images and video)."""
from benchmarks.datasets.families._common import (
    IMG,
    IMG_JSONS,
    TRAIN_FRAMES,
    VID,
    VID_JSONS,
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
        key="gopro", display_name="GoPro (test)", modality="image", degradation=("blur",), role="wd-test",
        paired=True, expected_count=1111, source_url=GOPRO_URL, citation=GOPRO_CITE, license_note="CC BY 4.0",
        layouts=(bundle(f"{IMG}/GoPro/Blur", f"{IMG}/GoPro/GT", recursive=True, sample_id=drop_component("fol"),
                        manifest=f"{IMG_JSONS}/GoPro.json"),
            original("GOPRO_Large/test|GoPro/test", "GOPRO_Large/test|GoPro/test", "<seq>/blur/<n>.png -> "
                     "<seq>/sharp/<n>.png", recursive=True, keep=gopro_blur, target_name=GOPRO_SHARP,
                     sample_id=drop_component("blur"))),
    ),
    DatasetSpec(
        key="gopro_train", display_name="GoPro (train)", modality="image", degradation=("blur",), role="train",
        paired=True, expected_count=2103, source_url=GOPRO_URL, citation=GOPRO_CITE, license_note="CC BY 4.0",
        layouts=(original("GOPRO_Large/train|GoPro/train", "GOPRO_Large/train|GoPro/train",
            "<seq>/blur/<n>.png -> <seq>/sharp/<n>.png", recursive=True, keep=gopro_blur,
            target_name=GOPRO_SHARP, sample_id=drop_component("blur")),),
    ),
    DatasetSpec(
        key="gopro_video", display_name="GoPro (test clips)", modality="video", degradation=("blur",), role="wd-test",
        paired=True, expected_count=11, source_url=GOPRO_URL, citation=GOPRO_CITE, license_note="CC BY 4.0",
        layouts=(bundle(f"{VID}/GenIRData/Motion blur/Real/GoPro/Test/Blur", f"{VID}/GenIRData/Motion blur/Real/GoPro/Test/GT",
                        manifest=f"{VID_JSONS}/GoPro_test.json"),
            original("GOPRO_Large/test|GoPro/test", "GOPRO_Large/test|GoPro/test",
                     "<seq>/blur/<frame> -> <seq>/sharp/<frame>", frame_filter="/blur/", target_name=GOPRO_SHARP)),
    ),
    DatasetSpec(
        key="gopro_video_train", display_name="GoPro (train clips)", modality="video", degradation=("blur",),
        role="train", paired=True, expected_count=22, source_url=GOPRO_URL, citation=GOPRO_CITE,
        license_note="CC BY 4.0",
        layouts=(original("GOPRO_Large/train|GoPro/train", "GOPRO_Large/train|GoPro/train",
            "<seq>/blur/<frame> -> <seq>/sharp/<frame>", frame_filter="/blur/", target_name=GOPRO_SHARP),),
        max_frames=TRAIN_FRAMES,
    ),
    DatasetSpec(
        key="4krd", display_name="4KRD", modality="image", degradation=("blur",), role="ood", paired=True,
        expected_count=300, source_url=FOURKRD_URL, citation=FOURKRD_CITE, license_note="research use",
        layouts=(bundle(f"{IMG}/4KRD/test/input300", f"{IMG}/4KRD/test/gt300", manifest=f"{IMG_JSONS}/4KRD.json"),
            original("4KRD/test/input300|4KRD/test/input", "4KRD/test/gt300|4KRD/test/gt", "input/<clip>_<n>.jpg -> "
                     "gt/<clip>_<n>.jpg")),
    ),
    DatasetSpec(
        key="4krd_video", display_name="4KRD (clips)", modality="video", degradation=("blur",), role="ood",
        paired=True, expected_count=9, source_url=FOURKRD_URL, citation=FOURKRD_CITE, license_note="research use",
        layouts=(bundle(f"{VID}/4KRD/test/input300", f"{VID}/4KRD/test/gt300", clip_prefix=r"VID_\d+",
                        manifest=f"{VID_JSONS}/4KRD_test.json"),
            original("4KRD/test/input300|4KRD/test/input", "4KRD/test/gt300|4KRD/test/gt",
                     "input/VID_<clip>_<n>.jpg -> gt/VID_<clip>_<n>.jpg (clips by VID prefix)", clip_prefix=r"VID_\d+")),
    ),
)
