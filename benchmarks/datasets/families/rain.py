"""Rain: Rain13K (train; Rain100H/L tests), LHP, Raindrop, NTU-Rain (synthetic and real video), LasVR."""
from benchmarks.datasets.families._common import (
    IMG,
    TRAIN_FRAMES,
    VID,
    DatasetSpec,
    bundle,
    original,
    regex_map,
)

NTU_URL = "https://github.com/hotndy/SPAC-SupplementaryMaterials"
NTU_CITE = "Chen et al., Robust Video Content Alignment and Compensation for Rain Removal in a CNN Framework, CVPR 2018"
NTU_SYNTH_TARGET = regex_map(r"(.+)_Rain/(.+)", r"\1_GT/\2")


def _rain100(key: str, name: str) -> DatasetSpec:
    return DatasetSpec(
        key, name, "image", ("rain",), "wd-test", True, 100, "https://github.com/kuijiang94/MSPFN",
        "Yang et al., Deep Joint Rain Detection and Removal from a Single Image, CVPR 2017", "research use",
        (bundle(f"{IMG}/{name}/Rain", f"{IMG}/{name}/GT"),
         original(f"{name}/input|Rain_Data/{name}/input", f"{name}/target|Rain_Data/{name}/target",
                  "Rain13K-style input/<n>.png -> target/<n>.png")))


SPECS = (
    _rain100("rain100h", "Rain100H"),
    _rain100("rain100l", "Rain100L"),
    DatasetSpec(
        "rain13k_train", "Rain13K (train)", "image", ("rain",), "train", True, 13711,
        "https://github.com/kuijiang94/MSPFN", "Jiang et al., Multi-Scale Progressive Fusion Network for Single Image "
        "Deraining, CVPR 2020", "research use",
        (original("Rain13K/input|train/Rain13K/input", "Rain13K/target|train/Rain13K/target",
                  "input/<n>.jpg -> target/<n>.jpg"),)),
    DatasetSpec(
        "lhp", "LHP", "image", ("rain",), "ood", True, 1000, "https://github.com/yunguo224/LHP-Rain",
        "Guo et al., From Sky to the Ground: A Large-scale Benchmark and Simple Baseline Towards Real Rain Removal, "
        "ICCV 2023", "research use",
        (bundle(f"{IMG}/LHP/Rain", f"{IMG}/LHP/GT"),
         original("LHP/test/input|LHP/input", "LHP/test/gt|LHP/gt", "input/<n>.png -> gt/<n>.png"))),
    DatasetSpec(
        "raindrop", "Raindrop (test_a)", "image", ("rain",), "ood", True, 58, "https://github.com/rui1996/DeRaindrop",
        "Qian et al., Attentive Generative Adversarial Network for Raindrop Removal, CVPR 2018", "research use",
        (bundle(f"{IMG}/Raindrop/Test/Drop", f"{IMG}/Raindrop/Test/GT", target_name=regex_map(r"(.+)_rain", r"\1_clean")),
         original("test_a/data", "test_a/gt", "data/<n>_rain.png -> gt/<n>_clean.png",
                  target_name=regex_map(r"(.+)_rain", r"\1_clean")))),
    DatasetSpec(
        "nturain_synthetic", "NTU-Rain (synthetic test)", "video", ("rain",), "wd-test", True, 8, NTU_URL, NTU_CITE,
        "research use",
        (bundle(f"{VID}/SPAC-SupplementaryMaterials/SPAC_processed/Dataset_Testing_Synthetic",
                f"{VID}/SPAC-SupplementaryMaterials/SPAC_processed/Dataset_Testing_Synthetic",
                target_name=NTU_SYNTH_TARGET, keep=lambda clip: clip.endswith("_Rain")),
         original("Dataset_Testing_Synthetic", "Dataset_Testing_Synthetic", "<clip>_Rain/<frame> -> <clip>_GT/<frame>",
                  target_name=NTU_SYNTH_TARGET, keep=lambda clip: clip.endswith("_Rain")))),
    DatasetSpec(
        "nturain_synthetic_train", "NTU-Rain (synthetic train)", "video", ("rain",), "train", True, 25, NTU_URL,
        NTU_CITE, "research use",
        (original("Dataset_Training_Synthetic", "Dataset_Training_Synthetic", "<clip>_Rain/<frame> -> <clip>_GT/<frame>",
                  target_name=NTU_SYNTH_TARGET, keep=lambda clip: clip.endswith("_Rain")),),
        max_frames=TRAIN_FRAMES),
    DatasetSpec(
        "nturain_real", "NTU-Rain (real)", "video", ("rain",), "ood", False, 7, NTU_URL, NTU_CITE, "research use",
        (bundle(f"{VID}/SPAC-SupplementaryMaterials/SPAC_processed/Dataset_Testing_RealRain/Rain", None),
         original("Dataset_Testing_RealRain", None, "<clip>_Rain/<frame>.jpg (no reference)"))),
    DatasetSpec(
        "lasvr", "LasVR", "video", ("rain",), "ood", True, 28, "https://github.com/c-yn/LasVR",
        "LasVR: a large-scale video deraining dataset", "research use",
        (bundle(f"{VID}/LasVR_frames/test/dirty", f"{VID}/LasVR_frames/test/clean"),
         original("LasVR/test/dirty|LasVR_frames/test/dirty", "LasVR/test/clean|LasVR_frames/test/clean",
                  "dirty/<clip>/<frame> -> clean/<clip>/<frame>"))),
)
