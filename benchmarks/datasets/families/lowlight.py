"""Low light: LOLv1 (train, test), SICE, SDSD (video), Lol-iPhone (video)."""
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
from benchmarks.protocol import SICE_MAX_EXPOSURE_INDEX

LOL_URL = "https://daooshee.github.io/BMVC2018website/"
LOL_CITE = "Wei et al., Deep Retinex Decomposition for Low-Light Enhancement, BMVC 2018"
SDSD_URL = "https://github.com/dvlab-research/SDSD"
SDSD_CITE = "Wang et al., Seeing Dynamic Scene in the Dark: A High-Quality Video Dataset with Mechatronic Alignment, ICCV 2021"


def sice_keep(rel: str) -> bool:
    """SICE: ``<scene>/<k>`` inputs with exposure index ``k <= 3`` (the protocol's filter); never the Label folder."""
    parts = rel.split("/")
    return len(parts) == 2 and parts[0].lower() != "label" and parts[1].isdigit() and \
        int(parts[1]) <= SICE_MAX_EXPOSURE_INDEX


SICE_TARGET = regex_map(r"([^/]+)/[^/]+", r"\1")

SPECS = (
    DatasetSpec(
        key="lolv1", display_name="LOLv1 (eval15)", modality="image", degradation=("lowlight",), role="wd-test",
        paired=True, expected_count=15, source_url=LOL_URL, citation=LOL_CITE, license_note="research use",
        layouts=(bundle(f"{IMG}/LOLv1/Test/Low", f"{IMG}/LOLv1/Test/GT", manifest=f"{IMG_JSONS}/LOLv1.json"),
            original("LOLdataset/eval15/low|LOL/eval15/low|eval15/low", "LOLdataset/eval15/high|LOL/eval15/high|eval15/high",
                     "eval15/low/<n>.png -> eval15/high/<n>.png")),
    ),
    DatasetSpec(
        key="lolv1_train", display_name="LOLv1 (our485)", modality="image", degradation=("lowlight",), role="train",
        paired=True, expected_count=485, source_url=LOL_URL, citation=LOL_CITE, license_note="research use",
        layouts=(original("LOLdataset/our485/low|LOL/our485/low|our485/low",
            "LOLdataset/our485/high|LOL/our485/high|our485/high", "our485/low/<n>.png -> our485/high/<n>.png"),),
    ),
    DatasetSpec(
        key="sice", display_name="SICE (exposure index <= 3)", modality="image", degradation=("lowlight",),
        role="ood", paired=True, expected_count=174, source_url="https://github.com/csjcai/SICE",
        citation="Cai et al., Learning a Deep Single Image Contrast Enhancer from "
            "Multi-Exposure Images, TIP 2018",
        license_note="research use",
        layouts=(bundle(f"{IMG}/SICE/Test", f"{IMG}/SICE/Test/Label", recursive=True, keep=sice_keep, target_name=SICE_TARGET,
                        manifest=f"{IMG_JSONS}/SICE.json"),
            original("SICE/Dataset_Part2|./Dataset_Part2|./SICE", "SICE/Dataset_Part2/Label|Dataset_Part2/Label|SICE/Label",
                     "<scene>/<k>.JPG -> Label/<scene>.JPG (k <= 3 evaluated)", recursive=True, keep=sice_keep,
                     target_name=SICE_TARGET)),
        notes=f"the manifest lists 565 exposures; the protocol evaluates index <= {SICE_MAX_EXPOSURE_INDEX} only",
    ),
    DatasetSpec(
        key="sdsd", display_name="SDSD (test)", modality="video", degradation=("lowlight",), role="wd-test",
        paired=True, expected_count=12, source_url=SDSD_URL, citation=SDSD_CITE, license_note="research use",
        layouts=(bundle(f"{VID}/SDSD/input", f"{VID}/SDSD/GT", manifest=f"{VID_JSONS}/SDSD_test.json"),
            original("SDSD/indoor_np/input|SDSD/input", "SDSD/indoor_np/GT|SDSD/GT", "input/pairN/<frame>.npy -> "
                     "GT/pairN/<frame>.npy", reader="npy")),
        notes="the bundle's 33-frame windows do not always start at a clip's first frame; with the original release "
            "the first 33 frames are used",
    ),
    DatasetSpec(
        key="sdsd_train", display_name="SDSD (train)", modality="video", degradation=("lowlight",), role="train",
        paired=True, expected_count=58, source_url=SDSD_URL, citation=SDSD_CITE, license_note="research use",
        layouts=(original("SDSD/train/input|SDSD_train/input", "SDSD/train/GT|SDSD_train/GT",
                     "input/pairN/<frame>.(png|npy) -> GT/pairN/<frame>"),
            original("SDSD/train_np/input", "SDSD/train_np/GT", "input/pairN/<frame>.npy -> GT/pairN/<frame>.npy",
                     reader="npy", name="original-npy")),
        max_frames=TRAIN_FRAMES,
    ),
    DatasetSpec(
        key="lol_iphone", display_name="Lol-iPhone (LoLi-Phone test)", modality="video", degradation=("lowlight",),
        role="ood", paired=False, expected_count=20,
        source_url="https://github.com/Li-Chongyi/Lighting-the-Darkness-in-the-Deep-Learning-Era-Open",
        citation="Li et al., Low-Light Image and Video Enhancement Using Deep Learning: A Survey, TPAMI 2021",
        license_note="research use",
        layouts=(bundle(f"{VID}/LoLi-Phone_release/all_flame/test_flame", None, clip_depth=2,
                        manifest=f"{VID_JSONS}/loliphone_test_pruned.json"),
            original("LoLi-Phone/all_flame/test_flame|LoLi-Phone_release/all_flame/test_flame", None,
                     "<phone>/<clip>/<frame>.jpeg (no reference)", clip_depth=2)),
        notes="the paper evaluates a pruned list of 20 clips; the full test set has more",
    ),
)
