"""Low light: LOLv1 (train, test), SICE, SDSD (video), Lol-iPhone (video)."""
from benchmarks.datasets.families._common import (
    IMG,
    TRAIN_FRAMES,
    VID,
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
        "lolv1", "LOLv1 (eval15)", "image", ("lowlight",), "wd-test", True, 15, LOL_URL, LOL_CITE, "research use",
        (bundle(f"{IMG}/LOLv1/Test/Low", f"{IMG}/LOLv1/Test/GT"),
         original("LOLdataset/eval15/low|LOL/eval15/low|eval15/low", "LOLdataset/eval15/high|LOL/eval15/high|eval15/high",
                  "eval15/low/<n>.png -> eval15/high/<n>.png"))),
    DatasetSpec(
        "lolv1_train", "LOLv1 (our485)", "image", ("lowlight",), "train", True, 485, LOL_URL, LOL_CITE, "research use",
        (original("LOLdataset/our485/low|LOL/our485/low|our485/low",
                  "LOLdataset/our485/high|LOL/our485/high|our485/high", "our485/low/<n>.png -> our485/high/<n>.png"),)),
    DatasetSpec(
        "sice", "SICE (exposure index <= 3)", "image", ("lowlight",), "ood", True, 174,
        "https://github.com/csjcai/SICE", "Cai et al., Learning a Deep Single Image Contrast Enhancer from "
        "Multi-Exposure Images, TIP 2018", "research use",
        (bundle(f"{IMG}/SICE/Test", f"{IMG}/SICE/Test/Label", recursive=True, keep=sice_keep, target_name=SICE_TARGET),
         original("SICE/Dataset_Part2|./Dataset_Part2|./SICE", "SICE/Dataset_Part2/Label|Dataset_Part2/Label|SICE/Label",
                  "<scene>/<k>.JPG -> Label/<scene>.JPG (k <= 3 evaluated)", recursive=True, keep=sice_keep,
                  target_name=SICE_TARGET)),
        notes=f"the manifest lists 565 exposures; the protocol evaluates index <= {SICE_MAX_EXPOSURE_INDEX} only"),
    DatasetSpec(
        "sdsd", "SDSD (test)", "video", ("lowlight",), "wd-test", True, 12, SDSD_URL, SDSD_CITE, "research use",
        (bundle(f"{VID}/SDSD/input", f"{VID}/SDSD/GT"),
         original("SDSD/indoor_np/input|SDSD/input", "SDSD/indoor_np/GT|SDSD/GT", "input/pairN/<frame>.npy -> "
                  "GT/pairN/<frame>.npy", reader="npy")),
        notes="the bundle's 33-frame windows do not always start at a clip's first frame; with the original release "
              "the first 33 frames are used"),
    DatasetSpec(
        "sdsd_train", "SDSD (train)", "video", ("lowlight",), "train", True, 58, SDSD_URL, SDSD_CITE, "research use",
        (original("SDSD/train/input|SDSD_train/input", "SDSD/train/GT|SDSD_train/GT",
                  "input/pairN/<frame>.(png|npy) -> GT/pairN/<frame>"),
         original("SDSD/train_np/input", "SDSD/train_np/GT", "input/pairN/<frame>.npy -> GT/pairN/<frame>.npy",
                  reader="npy", name="original-npy")),
        max_frames=TRAIN_FRAMES),
    DatasetSpec(
        "lol_iphone", "Lol-iPhone (LoLi-Phone test)", "video", ("lowlight",), "ood", False, 20,
        "https://github.com/Li-Chongyi/Lighting-the-Darkness-in-the-Deep-Learning-Era-Open",
        "Li et al., Low-Light Image and Video Enhancement Using Deep Learning: A Survey, TPAMI 2021", "research use",
        (bundle(f"{VID}/LoLi-Phone_release/all_flame/test_flame", None, clip_depth=2),
         original("LoLi-Phone/all_flame/test_flame|LoLi-Phone_release/all_flame/test_flame", None,
                  "<phone>/<clip>/<frame>.jpeg (no reference)", clip_depth=2)),
        notes="the paper evaluates a pruned list of 20 clips; the full test set has more"),
)
