"""Under-display camera (unseen degradations): TOLED and POLED, restored with the low-light + blur prompts."""
from benchmarks.datasets.families._common import IMG, IMG_JSONS, DatasetSpec, bundle, original, regex_map

UDC_URL = "https://yzhouas.github.io/projects/UDC/udc.html"
UDC_CITE = "Zhou et al., Image Restoration for Under-Display Camera, CVPR 2021"


def _udc(key: str, name: str) -> DatasetSpec:
    return DatasetSpec(
               key=key, display_name=name, modality="image", degradation=("lowlight", "blur"), role="unseen",
               paired=True, expected_count=30, source_url=UDC_URL, citation=UDC_CITE, license_note="research use",
               layouts=(bundle(f"{IMG}/{name}/input", f"{IMG}/{name}/gt", target_name=regex_map(r"input_(\d+)", r"gt_\1"),
                        manifest=f"{IMG_JSONS}/{name}.json"),
                   original(f"UDC/{key}|UDC/{name}|./{key}|./{name}", None, f"{key}_test_display.mat (test_display) and "
                            f"{key}_test_gt.mat (test_gt): arrays of 30 images", reader="mat", container_id="input_{index:04d}")),
           )


SPECS = (_udc("toled", "TOLED"), _udc("poled", "POLED"))
