"""Mixed degradations: CDD-11 haze+snow, LOLBlur (low light + blur, no-reference in the protocol)."""
from benchmarks.datasets.families._common import IMG, IMG_JSONS, DatasetSpec, bundle, original

SPECS = (
    DatasetSpec(
        key="cdd_haze_snow", display_name="CDD-11 (haze+snow)", modality="image", degradation=("snow", "haze"),
        role="mixed", paired=True, expected_count=200, source_url="https://github.com/gy65896/OneRestore",
        citation="Guo et al., OneRestore: A Universal Restoration Framework for "
            "Composite Degradation, ECCV 2024",
        license_note="research use",
        layouts=(bundle(f"{IMG}/CDD-11_test/haze_snow", f"{IMG}/CDD-11_test/clear", manifest=f"{IMG_JSONS}/CDD_haze_snow.json"),
            original("CDD-11_test/haze_snow|CDD-11/test/haze_snow", "CDD-11_test/clear|CDD-11/test/clear",
                     "<degradation>/<n>.png -> clear/<n>.png")),
    ),
    DatasetSpec(
        key="lolblur", display_name="LOLBlur", modality="image", degradation=("lowlight", "blur"), role="mixed",
        paired=False, expected_count=482, source_url="https://shangchenzhou.com/projects/LEDNet/",
        citation="Zhou et al., LEDNet: Joint Low-light Enhancement and Deblurring "
            "in the Dark, ECCV 2022",
        license_note="research use (S-Lab license)",
        layouts=(bundle(f"{IMG}/LOLBlur", None, manifest=f"{IMG_JSONS}/LOLBlur.json"),
            original("LOLBlur/test/low_blur_noise|LOL-Blur/test/low_blur_noise", None,
                     "test/low_blur_noise/<video>/<n>.png (scored without reference, as in the paper)", recursive=True)),
        notes="scored with the no-reference metrics only (the paper's protocol)",
    ),
)
