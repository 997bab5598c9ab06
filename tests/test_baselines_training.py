"""Retraining the video baselines as the paper did (``python -m slurm.train --methods avernet|viwsnet``): the dry-run
plan on the paper's sets and what is missing, and stand-in upstream trainers (:mod:`standins`: the training CLIs and
layouts of AverNet's ``basicsr/train.py`` and ViWS-Net's ``main_multi.py``) run end to end on tiny sets in the dataset
registry's own layouts: staged, trained, interrupted, resumed, recorded, and then restored with by the wrapper."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

import baselines
from baselines.base import RestoreConfig, SetupError
from benchmarks.datasets import Sample
from standins import ready, records, touch

#: the WAN training sets in their original layouts (benchmarks/datasets/families), one clip each
CLIPS = {
    "revide_train": ("REVIDE/Train/hazy/S01/{i}.jpg", "REVIDE/Train/gt/S01/{i}.jpg"),
    "nturain_synthetic_train": ("Dataset_Training_Synthetic/t1_Rain/{i}.jpg", "Dataset_Training_Synthetic/t1_GT/{i}.jpg"),
    "rvsd_train": ("RVSD/train/snow/00001/{i}.jpg", "RVSD/train/clean/00001/{i}.jpg"),
    "sdsd_train": ("SDSD/train_np/input/pair1/{i}.npy", "SDSD/train_np/GT/pair1/{i}.npy"),
    "gopro_video_train": ("GoPro/train/GOPR0001/blur/{i:06d}.png", "GoPro/train/GOPR0001/sharp/{i:06d}.png"),
}


def make_training_data(root: Path, frames: int = 5, size: tuple[int, int] = (40, 32)) -> Path:
    rng = np.random.default_rng(0)
    for lq, gt in CLIPS.values():
        for i in range(1, frames + 1):
            for pattern in (lq, gt):
                path = root / pattern.format(i=i)
                path.parent.mkdir(parents=True, exist_ok=True)
                array = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
                if path.suffix == ".npy":
                    np.save(path, array)
                else:
                    Image.fromarray(array).save(path)
    return root


def write_config(tmp_path: Path, key: str, settings: dict, monkeypatch) -> Path:
    lines = [f"[{key}]"] + [f'{k} = "{v}"' for k, v in settings.items() if isinstance(v, str)]
    lines += ["[" + key + ".env]"] + [f'{k} = "{v}"' for k, v in settings["env"].items()]
    config = tmp_path / "baselines.toml"
    config.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(config))
    return config


def test_dry_run_plans_the_retraining_on_the_papers_sets_and_says_what_is_missing(tmp_path, monkeypatch, capsys):
    from slurm.train import main

    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "none.toml"))
    assert main(["--methods", "avernet", "--dry-run", "--data-root", str(tmp_path / "data")]) == 1
    out, err = capsys.readouterr()
    for key in ("revide_train", "nturain_synthetic_train", "rvsd_train", "sdsd_train", "gopro_video_train"):
        assert f"{key} (" in out and f"dataset {key}\n" in err
    assert "600000 iterations" in out and "train-baseline" in out and "cost:" in out and "GPU-hours" in out
    assert "checkpoint/environment avernet training: upstream repository not configured" in err
    assert "git clone https://github.com/XLearning-SCU/2024-NeurIPS-AverNet" in err
    assert not (tmp_path / "data").exists()
    # ViWS-Net's loader takes three weather sets: the plan says which sets it leaves out and why
    assert main(["--methods", "viwsnet", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "500 epochs" in out and "sdsd_train" in out and "gopro_video_train" in out
    assert "upstream's training cannot learn blur, lowlight" in " ".join(out.split())
    assert main(["--methods", "dcpt", "--dry-run"]) == 2
    assert main(["--methods", "avernet", "--backbone", "wan", "--dry-run"]) == 2


def test_avernet_retrained_end_to_end_then_restored_with(tmp_path, monkeypatch, capsys):
    import baselines.methods.avernet as avernet
    from baselines.retrained import read
    from benchmarks.runner.planning import retraining_unit
    from slurm.train import main

    monkeypatch.chdir(tmp_path)  # the plan's logs: results/slurm/...
    monkeypatch.setattr(avernet, "TRAIN_FRAMES", 4)
    monkeypatch.setattr(avernet, "TRAIN_CROP", 16)
    data = make_training_data(tmp_path / "data")
    repo, settings = ready("avernet", tmp_path)
    del settings["checkpoint"]
    network = yaml.safe_load((repo / avernet.TEMPLATE).read_text())["network_g"]
    template = {"name": "AverNet_DAVIS", "model_type": "VideoRecurrentModel", "scale": 1, "num_gpu": 2,
                "datasets": {"train": {"name": "DAVIS", "type": "TUDVideoDataset", "dataroot_lq": "datasets/DAVIS_LQ",
                                       "dataroot_gt": "datasets/DAVIS", "meta_info_file": "x.txt", "filename_ext": "jpg",
                                       "filename_tmpl": "05d", "num_frame": 4, "gt_size": 16},
                             "val": {"name": "DAVISSubset", "type": "VideoRecurrentTestDataset"}},
                "network_g": network, "path": {"pretrain_network_g": None, "resume_state": None},
                "train": {"scheduler": {"type": "CosineAnnealingRestartLR", "periods": [600000]},
                          "total_iter": 600000},
                "val": {"val_freq": 5000}, "logger": {"save_checkpoint_freq": 2, "use_tb_logger": True}}
    (repo / avernet.TRAIN_TEMPLATE).parent.mkdir(parents=True)
    (repo / avernet.TRAIN_TEMPLATE).write_text(yaml.safe_dump(template))
    write_config(tmp_path, "avernet", settings, monkeypatch)
    argv = ["--methods", "avernet", "--data-root", str(data), "--iterations", "6"]

    monkeypatch.setenv("STANDIN_STOP_AT", "5")  # killed after the state of iteration 4 (a time limit)
    assert main(argv) == 1
    assert read("avernet") is None
    monkeypatch.delenv("STANDIN_STOP_AT")
    assert main(argv) == 0
    first, second = records(tmp_path)
    opt = second["options"]
    assert second["argv"][:2] == ["basicsr/train.py", "-opt"] and second["cwd"] == str(repo)
    assert second["pythonpath"] == str(repo)
    assert first["options"]["path"]["resume_state"] is None
    assert opt["path"]["resume_state"].endswith("training_states/4.state")  # resumed, not restarted
    assert opt["train"]["total_iter"] == 6 and opt["train"]["scheduler"]["periods"] == [6]
    assert opt["num_gpu"] == 1 and "val" not in opt and "val" not in opt["datasets"]
    assert opt["logger"]["use_tb_logger"] is False
    meta = Path(opt["datasets"]["train"]["meta_info_file"]).read_text().splitlines()
    assert sorted(line.split(" ")[0] for line in meta) == ["blur00000", "haze00000", "lowlight00000", "rain00000",
                                                           "snow00000"]
    assert all(line.split(" ")[1:] == ["5", "(32,40,3)", "0"] for line in meta)

    record = read("avernet")
    assert record.datasets == {"blur": "gopro_video_train", "haze": "revide_train", "lowlight": "sdsd_train",
                               "rain": "nturain_synthetic_train", "snow": "rvsd_train"}
    assert record.iterations == 6 and record.checkpoint.endswith("models/net_g_latest.pth")
    staged = Path(opt["datasets"]["train"]["dataroot_lq"])
    assert (staged / "haze00000/00000.png").resolve() == (data / CLIPS["revide_train"][0].format(i=1))  # linked
    sdsd = np.load(data / CLIPS["sdsd_train"][0].format(i=1))  # a .npy frame: decoded by the registry, written
    assert np.array_equal(np.asarray(Image.open(staged / "lowlight00000/00000.png")), sdsd)
    assert "python -m baselines restore avernet and the tables now use it" in " ".join(capsys.readouterr().out.split())
    unit = retraining_unit("avernet", str(data))
    assert unit is not None and unit.iterations is None and not unit.is_done()  # the tables' unit: upstream's length
    assert main(argv) == 0 and len(records(tmp_path)) == 2  # done: not run again

    # the wrapper (and so the tables) restores with the retrained weights, no checkpoint configured
    frames = [str(Path(CLIPS["revide_train"][0].format(i=1)))]
    sample = Sample("hazy", [str(data / f) for f in frames] * 2, None, ("haze",), "video", "toyv")
    report = baselines.get("avernet").restore([sample], tmp_path / "out", RestoreConfig(settings=settings,
                                                                                          progress=False))
    assert report.weights["source"] == "retrained" and report.weights["checkpoint"] == record.checkpoint
    assert records(tmp_path)[-1]["options"]["path"]["pretrain_network_g"] == record.checkpoint
    identity = baselines.get("avernet").identity(settings)
    assert identity["retrained"]["config"] == record.config_hash  # a new run folder for new weights


def test_viwsnet_retrained_end_to_end_then_restored_with(tmp_path, monkeypatch):
    import baselines.methods.viwsnet as viwsnet
    from baselines.retrained import read
    from slurm.train import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(viwsnet, "TRAIN_PATCH", 16)
    monkeypatch.setenv("STANDIN_PATCH", "16")
    data = make_training_data(tmp_path / "data")
    repo, settings = ready("viwsnet", tmp_path, env={"CUDA_VISIBLE_DEVICES": "2,3"})
    del settings["checkpoint"]
    touch(tmp_path / "home/.cache/torch/hub/checkpoints/vgg16-397923af.pth")  # prefetched
    write_config(tmp_path, "viwsnet", settings, monkeypatch)
    argv = ["--methods", "viwsnet", "--data-root", str(data), "--iterations", "20"]
    monkeypatch.setenv("STANDIN_STOP_AT", "10")
    assert main(argv) == 1
    monkeypatch.delenv("STANDIN_STOP_AT")
    assert main(argv) == 0
    first, second = records(tmp_path)
    assert first["devices"] == second["devices"] == "2,3"  # main_multi.py:6 forces "0,5"
    assert first["argv"][1:3] == ["--nEpochs", "20"] and "--pretrained" not in first["argv"]
    resumed = second["argv"]
    assert resumed[resumed.index("--start_epoch") + 1] == "10" and resumed[resumed.index("--pretrained") + 1] == "True"
    assert resumed[resumed.index("--pretrained_sr") + 1].endswith("ViWSNet_epoch_10.pth")
    assert "--data_dir" not in resumed  # type=list upstream: never passed
    record = read("viwsnet")
    assert record.degradations == ("haze", "rain", "snow")
    assert record.checkpoint.endswith("ViWSNet_epoch_20.pth")

    clip = [str(data / CLIPS["rvsd_train"][0].format(i=i)) for i in range(1, 4)]
    snowy = Sample("snowy", clip, None, ("snow",), "video", "toyv")
    report = baselines.get("viwsnet").restore([snowy], tmp_path / "out", RestoreConfig(settings=settings,
                                                                                       progress=False))
    assert report.weights["source"] == "retrained" and report.weights["checkpoint"] == record.checkpoint
    dark = Sample("dark", clip, None, ("lowlight",), "video", "toyv")
    with pytest.raises(SetupError, match="not trained for lowlight") as err:
        baselines.get("viwsnet").restore([dark], tmp_path / "out2", RestoreConfig(settings=settings, progress=False))
    assert "upstream's training cannot learn lowlight" in str(err.value) and "allow_uncovered" in str(err.value)


def test_training_clips_too_short_or_small_for_upstream_are_left_out_and_said(tmp_path):
    import baselines.methods.avernet as avernet
    from baselines.base import BaselineError
    from benchmarks.runner.units import dataset_samples

    data = make_training_data(tmp_path / "data", frames=5)
    sets = {"haze": dataset_samples("revide_train", str(data))}
    with pytest.raises(BaselineError, match="no training clip meets upstream's needs") as err:
        baselines.get("avernet").stage_training(sets, tmp_path / "staged")  # 5 frames of 40x32
    assert f">= {avernet.TRAIN_FRAMES} paired frames of >= {avernet.TRAIN_CROP} px" in str(err.value)
    sets["rain"] = dataset_samples("nturain_synthetic_train", str(make_training_data(tmp_path / "big", 12, (256, 260))))
    clips, skipped = baselines.get("avernet").stage_training(sets, tmp_path / "staged")
    assert [c.dataset for c in clips] == ["nturain_synthetic_train"] and len(skipped) == 1


def test_the_table_plan_waits_for_the_retraining(tmp_path, monkeypatch):
    from benchmarks.runner.planning import plan_table
    from benchmarks.runner.upstream_training import UpstreamTrainUnit
    from benchmarks.tables import get

    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "none.toml"))
    plan = plan_table(get("table3"), methods=["avernet", "dcpt"], data_root=str(tmp_path))
    (train,) = [u for u in plan.units if isinstance(u, UpstreamTrainUnit)]
    assert train.method == "avernet"
    restores = [u for u in plan.units if u.kind == "restore"]
    assert all(u.deps == (train.key,) for u in restores if u.method == "avernet")
    assert all(u.deps == () for u in restores if u.method == "dcpt")
    # a configured checkpoint (e.g. the authors' own retrained weights) is used as it is: no retraining
    (tmp_path / "cfg.toml").write_text('[avernet]\ncheckpoint = "/weights/avernet.pth"\n')
    monkeypatch.setenv("YPT_BASELINES_CONFIG", str(tmp_path / "cfg.toml"))
    plan = plan_table(get("table3"), methods=["avernet"], data_root=str(tmp_path))
    assert not any(isinstance(u, UpstreamTrainUnit) for u in plan.units)

