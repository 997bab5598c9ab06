"""Test-wide settings: offline hub (a missing hub file otherwise costs ~50 s of retries), few threads."""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "2")

# Nothing the suite writes by default (null-text contexts and latents under ~/.cache/ypt-bench, prompts, configs)
# may land in the real home: the whole session runs with a temporary HOME, removed at exit.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

_HOME = tempfile.mkdtemp(prefix="ypt-test-home-")
os.environ["HOME"] = _HOME
for _var in ("YPT_CACHE", "YPT_PROMPTS", "YPT_DATA_CONFIG", "YPT_BASELINES_CONFIG", "YPT_BASELINE_WEIGHTS",
             "YPT_MANIFESTS", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
    os.environ.pop(_var, None)
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _no_user_baseline_weights(tmp_path_factory, monkeypatch):
    """Each test sees no retrained baseline weights but its own (a record one test writes must not reach another)."""
    monkeypatch.setenv("YPT_BASELINE_WEIGHTS", str(tmp_path_factory.mktemp("baseline_weights")))


# ---- the authors' release as the oracle of the parity tests (tests/release_oracle.py) ------------------------------
@pytest.fixture(scope="session")
def release():
    """The release's own modules from ../shared (skipped, with the reason, when ../shared has no release)."""
    from release_oracle import RELEASE, SKIP_REASON, load_release

    if not RELEASE.is_dir():
        pytest.skip(SKIP_REASON)
    return load_release("prompt_helpers", "model_prompts", "utils", "dataset", "dataset_images", "inference",
                        "metric_utils.val_utils")


@pytest.fixture(scope="session")
def release_models(tmp_path_factory):
    """Tiny FLUX and WAN pipeline folders both sides load (the release through its pipelines, the suite through
    Backbone.from_pretrained)."""
    from release_oracle import save_tiny_flux, save_tiny_wan

    root = tmp_path_factory.mktemp("release-models")
    return {"flux": save_tiny_flux(root / "flux"), "wan": save_tiny_wan(root / "wan")}
