"""Cluster profiles (no cluster needed): loading, validation, and the submitit parameters of a unit's needs."""
from __future__ import annotations

import pytest

from slurm.profiles import ProfileError, available_profiles, load_profile


def test_shipped_profiles_load():
    assert {"ci", "h100"} <= set(available_profiles())
    h100 = load_profile("h100")
    assert h100.constraint == "h100" and h100.gpus_per_node >= 1


def test_job_parameters_follow_unit_needs(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('partition = "gpu"\naccount = "lab"\nconstraint = "h100"\ngpus_per_node = 2\n'
                    'cpus_per_task = 8\nmem_gb = 100\ntimeout_min = 120\nsetup = ["module load cuda"]\n')
    p = load_profile(path)
    gpu = p.job_parameters(gpus=1, cpus=16, mem_gb=40, minutes=600)
    assert gpu["gpus_per_node"] == 1 and gpu["slurm_constraint"] == "h100" and gpu["slurm_account"] == "lab"
    assert gpu["cpus_per_task"] == 8 and gpu["timeout_min"] == 120 and gpu["mem_gb"] == 40
    assert gpu["slurm_setup"] == ["module load cuda"] and gpu["slurm_partition"] == "gpu"
    cpu = p.job_parameters(gpus=0, cpus=2, mem_gb=4, minutes=30)
    assert "gpus_per_node" not in cpu and "slurm_constraint" not in cpu and cpu["timeout_min"] == 30
    with pytest.raises(ProfileError, match="needs 3 GPU"):
        p.job_parameters(gpus=3)
    with pytest.raises(ProfileError, match="200 GB"):
        p.job_parameters(mem_gb=200)


def test_bad_profiles_are_named(tmp_path, monkeypatch):
    with pytest.raises(ProfileError, match="available: .*ci"):
        load_profile("no_such_cluster")
    monkeypatch.setenv("YPT_SLURM_CLUSTERS", str(tmp_path))
    (tmp_path / "typo.toml").write_text('partition = "x"\ngpu_per_node = 1\n')
    with pytest.raises(ProfileError, match="unknown key.*gpu_per_node"):
        load_profile("typo")
    (tmp_path / "nopart.toml").write_text('gpus_per_node = 1\n')
    with pytest.raises(ProfileError, match="must set partition"):
        load_profile("nopart")


def test_timeout_requeues_follow_the_units_duration_and_the_profiles_limit():
    from slurm.profiles import timeout_requeues

    assert timeout_requeues(24 * 60, 240) == 7  # six 4-hour slices: five timeouts + two spare
    assert timeout_requeues(60, 240) == 3  # fits in one job: submitit's default
    assert timeout_requeues(48 * 60, 120) == 25
