"""Mixed degradations: CDD-11 haze+snow, LOLBlur (low light + blur, no-reference in the protocol)."""
from benchmarks.datasets.families._common import IMG, DatasetSpec, bundle, original

SPECS = (
    DatasetSpec(
        "cdd_haze_snow", "CDD-11 (haze+snow)", "image", ("snow", "haze"), "mixed", True, 200,
        "https://github.com/gy65896/OneRestore", "Guo et al., OneRestore: A Universal Restoration Framework for "
        "Composite Degradation, ECCV 2024", "research use",
        (bundle(f"{IMG}/CDD-11_test/haze_snow", f"{IMG}/CDD-11_test/clear"),
         original("CDD-11_test/haze_snow|CDD-11/test/haze_snow", "CDD-11_test/clear|CDD-11/test/clear",
                  "<degradation>/<n>.png -> clear/<n>.png"))),
    DatasetSpec(
        "lolblur", "LOLBlur", "image", ("lowlight", "blur"), "mixed", False, 482,
        "https://shangchenzhou.com/projects/LEDNet/", "Zhou et al., LEDNet: Joint Low-light Enhancement and Deblurring "
        "in the Dark, ECCV 2022", "research use (S-Lab license)",
        (bundle(f"{IMG}/LOLBlur", None),
         original("LOLBlur/test/low_blur_noise|LOL-Blur/test/low_blur_noise", None,
                  "test/low_blur_noise/<video>/<n>.png (scored without reference, as in the paper)", recursive=True)),
        notes="scored with the no-reference metrics only (the paper's protocol)"),
)
