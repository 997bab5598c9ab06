"""Snow: Snow100K (train, Snow100K-L test), WeatherBench snow, RVSD (video), AAURainSnow (video)."""
from benchmarks.datasets.families._common import (
    IMG,
    TRAIN_FRAMES,
    VID,
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
        "snow100k_l", "Snow100K-L (test)", "image", ("snow",), "wd-test", True, 16801, SNOW100K_URL, SNOW100K_CITE,
        "research use",
        (bundle(f"{IMG}/Snow100K-L/synthetic|{IMG}/Snow100K/Snow100K-L/synthetic",
                f"{IMG}/Snow100K-L/gt|{IMG}/Snow100K/Snow100K-L/gt"),
         original("Snow100K/test/Snow100K-L/synthetic|test/Snow100K-L/synthetic",
                  "Snow100K/test/Snow100K-L/gt|test/Snow100K-L/gt", "synthetic/<n>.jpg -> gt/<n>.jpg")),
        notes="the authors' Snow100K manifest was not in their release snapshot; the count is the full Snow100K-L"),
    DatasetSpec(
        "snow100k_train", "Snow100K (train)", "image", ("snow",), "train", True, 50000, SNOW100K_URL, SNOW100K_CITE,
        "research use",
        (original("Snow100K/train/synthetic|all/synthetic|Snow100K-training/all/synthetic",
                  "Snow100K/train/gt|all/gt|Snow100K-training/all/gt", "synthetic/<n>.jpg -> gt/<n>.jpg"),)),
    DatasetSpec(
        "weatherbench_snow", "WeatherBench (snow)", "image", ("snow",), "ood", True, 200,
        "https://github.com/guanqiyuan/WeatherBench", "Guan et al., WeatherBench: A Real-World Benchmark Dataset for "
        "All-in-One Adverse Weather Image Restoration, 2025", "research use",
        (bundle(f"{IMG}/WeatherBenchSnow/Test/input", f"{IMG}/WeatherBenchSnow/Test/target"),
         original("WeatherBench/test/snow/input|WeatherBench/snow/input",
                  "WeatherBench/test/snow/target|WeatherBench/snow/target|WeatherBench/snow/gt",
                  "snow/input/<n>.jpg -> snow/target/<n>.jpg"))),
    DatasetSpec(
        "rvsd", "RVSD (test)", "video", ("snow",), "wd-test", True, 30, RVSD_URL, RVSD_CITE, "research use",
        (bundle(f"{VID}/VideoDesnowing/test/snow", f"{VID}/VideoDesnowing/test/clean"),
         original("RVSD/test/snow|VideoDesnowing/test/snow", "RVSD/test/clean|VideoDesnowing/test/clean",
                  "test/snow/<clip>/<frame> -> test/clean/<clip>/<frame>"))),
    DatasetSpec(
        "rvsd_train", "RVSD (train)", "video", ("snow",), "train", True, 77, RVSD_URL, RVSD_CITE, "research use",
        (original("RVSD/train/snow|VideoDesnowing/train/snow", "RVSD/train/clean|VideoDesnowing/train/clean",
                  "train/snow/<clip>/<frame> -> train/clean/<clip>/<frame>"),), max_frames=TRAIN_FRAMES),
    DatasetSpec(
        "aaurainsnow", "AAURainSnow", "video", ("snow",), "ood", False, 22,
        "https://www.kaggle.com/datasets/aalborguniversity/aau-rainsnow", "Bahnsen and Moeslund, Rain Removal in "
        "Traffic Surveillance: Does it Matter?, T-ITS 2018", "CC BY-NC-SA (see the release)",
        (bundle(f"{VID}/AAURainSnow_frames", None, clip_depth=2),
         original("AAURainSnow_frames|AAURainSnow", None, "<location>/<clip>/<frame>.png (no reference)",
                  clip_depth=2)),
        notes="the paper evaluates 22 clips; frames must be extracted from the release videos first"),
)
