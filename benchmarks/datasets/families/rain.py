"""Rain: Rain13K (train; Rain100H/L tests), LHP, Raindrop, NTU-Rain (synthetic and real video), LasVR."""
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

NTU_URL = "https://github.com/hotndy/SPAC-SupplementaryMaterials"
NTU_CITE = "Chen et al., Robust Video Content Alignment and Compensation for Rain Removal in a CNN Framework, CVPR 2018"
NTU_SYNTH_TARGET = regex_map(r"(.+)_Rain/(.+)", r"\1_GT/\2")


def _rain100(key: str, name: str) -> DatasetSpec:
    return DatasetSpec(
               key=key, display_name=name, modality="image", degradation=("rain",), role="wd-test", paired=True,
               expected_count=100, source_url="https://github.com/kuijiang94/MSPFN",
               citation="Yang et al., Deep Joint Rain Detection and Removal from a Single Image, CVPR 2017",
               license_note="research use",
               layouts=(bundle(f"{IMG}/{name}/Rain", f"{IMG}/{name}/GT", manifest=f"{IMG_JSONS}/{name}.json"),
                   original(f"{name}/input|Rain_Data/{name}/input", f"{name}/target|Rain_Data/{name}/target",
                            "Rain13K-style input/<n>.png -> target/<n>.png")),
           )


SPECS = (
    _rain100("rain100h", "Rain100H"),
    _rain100("rain100l", "Rain100L"),
    DatasetSpec(
        key="rain13k_train", display_name="Rain13K (train)", modality="image", degradation=("rain",), role="train",
        paired=True, expected_count=13711, source_url="https://github.com/kuijiang94/MSPFN",
        citation="Jiang et al., Multi-Scale Progressive Fusion Network for Single Image "
            "Deraining, CVPR 2020",
        license_note="research use",
        layouts=(original("Rain13K/input|train/Rain13K/input", "Rain13K/target|train/Rain13K/target",
            "input/<n>.jpg -> target/<n>.jpg"),),
    ),
    DatasetSpec(
        key="lhp", display_name="LHP", modality="image", degradation=("rain",), role="ood", paired=True,
        expected_count=1000, source_url="https://github.com/yunguo224/LHP-Rain",
        citation="Guo et al., From Sky to the Ground: A Large-scale Benchmark and Simple Baseline Towards Real Rain Removal, "
            "ICCV 2023",
        license_note="research use",
        layouts=(bundle(f"{IMG}/LHP/Rain", f"{IMG}/LHP/GT", manifest=f"{IMG_JSONS}/LHP.json"),
            original("LHP/test/input|LHP/input", "LHP/test/gt|LHP/gt", "input/<n>.png -> gt/<n>.png")),
    ),
    DatasetSpec(
        key="raindrop", display_name="Raindrop (test_a)", modality="image", degradation=("rain",), role="ood",
        paired=True, expected_count=58, source_url="https://github.com/rui1996/DeRaindrop",
        citation="Qian et al., Attentive Generative Adversarial Network for Raindrop Removal, CVPR 2018",
        license_note="research use",
        layouts=(bundle(f"{IMG}/Raindrop/Test/Drop", f"{IMG}/Raindrop/Test/GT", target_name=regex_map(r"(.+)_rain", r"\1_clean"),
                        manifest=f"{IMG_JSONS}/Raindrop.json"),
            original("test_a/data", "test_a/gt", "data/<n>_rain.png -> gt/<n>_clean.png",
                     target_name=regex_map(r"(.+)_rain", r"\1_clean"))),
    ),
    DatasetSpec(
        key="nturain_synthetic", display_name="NTU-Rain (synthetic test)", modality="video", degradation=("rain",),
        role="wd-test", paired=True, expected_count=8, source_url=NTU_URL, citation=NTU_CITE,
        license_note="research use",
        layouts=(bundle(f"{VID}/SPAC-SupplementaryMaterials/SPAC_processed/Dataset_Testing_Synthetic",
                   f"{VID}/SPAC-SupplementaryMaterials/SPAC_processed/Dataset_Testing_Synthetic",
                   target_name=NTU_SYNTH_TARGET, keep=lambda clip: clip.endswith("_Rain")),
            original("Dataset_Testing_Synthetic", "Dataset_Testing_Synthetic", "<clip>_Rain/<frame> -> <clip>_GT/<frame>",
                     target_name=NTU_SYNTH_TARGET, keep=lambda clip: clip.endswith("_Rain"))),
    ),
    DatasetSpec(
        key="nturain_synthetic_train", display_name="NTU-Rain (synthetic train)", modality="video",
        degradation=("rain",), role="train", paired=True, expected_count=25, source_url=NTU_URL, citation=NTU_CITE,
        license_note="research use",
        layouts=(original("Dataset_Training_Synthetic", "Dataset_Training_Synthetic", "<clip>_Rain/<frame> -> <clip>_GT/<frame>",
            target_name=NTU_SYNTH_TARGET, keep=lambda clip: clip.endswith("_Rain")),),
        max_frames=TRAIN_FRAMES,
    ),
    DatasetSpec(
        key="nturain_real", display_name="NTU-Rain (real)", modality="video", degradation=("rain",), role="ood",
        paired=False, expected_count=7, source_url=NTU_URL, citation=NTU_CITE, license_note="research use",
        layouts=(bundle(f"{VID}/SPAC-SupplementaryMaterials/SPAC_processed/Dataset_Testing_RealRain/Rain", None,
                        manifest=f"{VID_JSONS}/SPAC_test_real.json"),
            original("Dataset_Testing_RealRain", None, "<clip>_Rain/<frame>.jpg (no reference)")),
    ),
    DatasetSpec(
        key="lasvr", display_name="LasVR", modality="video", degradation=("rain",), role="ood", paired=True,
        expected_count=28, source_url="https://github.com/c-yn/LasVR",
        citation="LasVR: a large-scale video deraining dataset", license_note="research use",
        layouts=(bundle(f"{VID}/LasVR_frames/test/dirty", f"{VID}/LasVR_frames/test/clean", manifest=f"{VID_JSONS}/LasVR_test.json"),
            original("LasVR/test/dirty|LasVR_frames/test/dirty", "LasVR/test/clean|LasVR_frames/test/clean",
                     "dirty/<clip>/<frame> -> clean/<clip>/<frame>")),
    ),
)
