"""Snow: Snow100K (train, Snow100K-L test), WeatherBench snow, RVSD (video), AAURainSnow (video)."""
from benchmarks.datasets.families._common import (
    IMG,
    IMG_JSONS,
    TRAIN_FRAMES,
    VID,
    VID_JSONS,
    DatasetSpec,
    bundle,
    original,
)

SNOW100K_URL = "https://sites.google.com/view/yunfuliu/desnownet"
SNOW100K_CITE = "Liu et al., DesnowNet: Context-Aware Deep Network for Snow Removal, TIP 2018"
RVSD_URL = "https://github.com/haoyuc/VideoDesnowing"
RVSD_CITE = "Chen et al., Snow Removal in Video: A New Dataset and A Novel Method, ICCV 2023"

SPECS = (
    DatasetSpec(
        key="snow100k_l", display_name="Snow100K-L (test)", modality="image", degradation=("snow",), role="wd-test",
        paired=True, expected_count=16801, source_url=SNOW100K_URL, citation=SNOW100K_CITE,
        license_note="research use",
        layouts=(bundle(f"{IMG}/Snow100K-L/synthetic|{IMG}/Snow100K/Snow100K-L/synthetic",
                   f"{IMG}/Snow100K-L/gt|{IMG}/Snow100K/Snow100K-L/gt", manifest=f"{IMG_JSONS}/Snow100k.json"),
            original("Snow100K/test/Snow100K-L/synthetic|test/Snow100K-L/synthetic",
                     "Snow100K/test/Snow100K-L/gt|test/Snow100K-L/gt", "synthetic/<n>.jpg -> gt/<n>.jpg")),
        notes="the authors' Snow100K manifest was not in their release snapshot; the count is the full Snow100K-L",
    ),
    DatasetSpec(
        key="snow100k_train", display_name="Snow100K (train)", modality="image", degradation=("snow",), role="train",
        paired=True, expected_count=50000, source_url=SNOW100K_URL, citation=SNOW100K_CITE,
        license_note="research use",
        layouts=(original("Snow100K/train/synthetic|all/synthetic|Snow100K-training/all/synthetic",
            "Snow100K/train/gt|all/gt|Snow100K-training/all/gt", "synthetic/<n>.jpg -> gt/<n>.jpg"),),
    ),
    DatasetSpec(
        key="weatherbench_snow", display_name="WeatherBench (snow)", modality="image", degradation=("snow",),
        role="ood", paired=True, expected_count=200, source_url="https://github.com/guanqiyuan/WeatherBench",
        citation="Guan et al., WeatherBench: A Real-World Benchmark Dataset for "
            "All-in-One Adverse Weather Image Restoration, 2025",
        license_note="research use",
        layouts=(bundle(f"{IMG}/WeatherBenchSnow/Test/input", f"{IMG}/WeatherBenchSnow/Test/target",
                        manifest=f"{IMG_JSONS}/WeatherBenchSnow.json"),
            original("WeatherBench/test/snow/input|WeatherBench/snow/input",
                     "WeatherBench/test/snow/target|WeatherBench/snow/target|WeatherBench/snow/gt",
                     "snow/input/<n>.jpg -> snow/target/<n>.jpg")),
    ),
    DatasetSpec(
        key="rvsd", display_name="RVSD (test)", modality="video", degradation=("snow",), role="wd-test", paired=True,
        expected_count=30, source_url=RVSD_URL, citation=RVSD_CITE, license_note="research use",
        layouts=(bundle(f"{VID}/VideoDesnowing/test/snow", f"{VID}/VideoDesnowing/test/clean", manifest=f"{VID_JSONS}/RVSD_test.json"),
            original("RVSD/test/snow|VideoDesnowing/test/snow", "RVSD/test/clean|VideoDesnowing/test/clean",
                     "test/snow/<clip>/<frame> -> test/clean/<clip>/<frame>")),
    ),
    DatasetSpec(
        key="rvsd_train", display_name="RVSD (train)", modality="video", degradation=("snow",), role="train",
        paired=True, expected_count=77, source_url=RVSD_URL, citation=RVSD_CITE, license_note="research use",
        layouts=(original("RVSD/train/snow|VideoDesnowing/train/snow", "RVSD/train/clean|VideoDesnowing/train/clean",
            "train/snow/<clip>/<frame> -> train/clean/<clip>/<frame>"),),
        max_frames=TRAIN_FRAMES,
    ),
    DatasetSpec(
        key="aaurainsnow", display_name="AAURainSnow", modality="video", degradation=("snow",), role="ood",
        paired=False, expected_count=22, source_url="https://www.kaggle.com/datasets/aalborguniversity/aau-rainsnow",
        citation="Bahnsen and Moeslund, Rain Removal in "
            "Traffic Surveillance: Does it Matter?, T-ITS 2018",
        license_note="CC BY-NC-SA (see the release)",
        layouts=(bundle(f"{VID}/AAURainSnow_frames", None, clip_depth=2, manifest=f"{VID_JSONS}/aau.json"),
            original("AAURainSnow_frames|AAURainSnow", None, "<location>/<clip>/<frame>.png (no reference)",
                     clip_depth=2)),
        notes="the paper evaluates 22 clips; frames must be extracted from the release videos first",
    ),
)
