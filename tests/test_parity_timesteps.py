"""Release parity, items 6 and 7: the timesteps the backbones are fed.

Item 6: the scheduler grids are diffusers 0.33.1's (the release pins it), computed without diffusers. The anchors
below were taken from diffusers 0.33.1 itself (``UniPCMultistepScheduler(prediction_type="flow_prediction",
use_flow_sigmas=True, flow_shift=1.0).set_timesteps(1000)``, ``FlowMatchEulerDiscreteScheduler(1000,
shift=1.0).set_timesteps(1000, mu=None, sigmas=None)``); with ``YPT_DIFFUSERS_0331`` naming an unpacked 0.33.1 wheel
(``pip download diffusers==0.33.1 --no-deps`` and unzip ``diffusers/*``) the grids are also compared with it live.
Under diffusers 0.42 the WAN grid is shifted by one index: the protocol's last timestep becomes 1 instead of 0.

Item 7: in the fp16 protocol the release's FLUX timestep is not exact either: diffusers' ``FluxTransformer2DModel``
runs ``x_embedder`` (fp16 under autocast) before ``timestep.to(hidden_states.dtype) * 1000``, so both sides embed
252.875 where the grid says 253. Pinned here: the suite feeds what the release feeds."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
import torch
from release_oracle import FLUX_TEXT_LEN, maxdiff, release_model

from ypt.sampler import nearest_timestep, scheduler_grid

#: sha256 of the fp32 sigmas' and the timesteps' bytes, from diffusers 0.33.1
GRID_SHA256 = {"flux": "50991310ce75437fddc0c0daf7c93d958f1a60d14af55003ec695c358b183c4e",
               "wan": "3f2d37006f678a0a11005b49ea45a15e5d334771ec94ace87ca65c53559d6522"}
#: the timesteps of the protocol's 20 EBR steps (T0 0.4, t_min 1e-4) on each grid, under diffusers 0.33.1
PROTOCOL_TIMESTEPS = {
    "wan": [399, 378, 357, 336, 315, 294, 273, 252, 231, 210, 189, 168, 147, 126, 104, 83, 62, 41, 20, 0],
    "flux": [400.0, 379.0, 358.0, 337.0, 316.0, 295.0, 274.0, 252.99998474121094, 232.0, 211.0, 190.0, 168.0, 147.0,
             126.0, 105.0, 84.0, 63.0, 42.0, 21.0, 1.0],
}


def _digest(sigmas: torch.Tensor, timesteps: torch.Tensor) -> str:
    return hashlib.sha256(sigmas.numpy().tobytes() + timesteps.numpy().tobytes()).hexdigest()


@pytest.mark.parametrize("backbone", ["flux", "wan"])
def test_grids_are_diffusers_0_33_1s(backbone):
    sigmas, timesteps = scheduler_grid(backbone)
    assert sigmas.dtype == torch.float32 and len(sigmas) == 1001 and len(timesteps) == 1000
    assert _digest(sigmas, timesteps) == GRID_SHA256[backbone]
    grid = torch.linspace(0.4, 1e-4, 20, dtype=torch.float32)
    assert nearest_timestep(grid, sigmas, timesteps).tolist() == PROTOCOL_TIMESTEPS[backbone]
    if backbone == "wan":
        assert timesteps[:3].tolist() == [999, 998, 997] and timesteps[-3:].tolist() == [2, 1, 0]


def test_grids_need_no_diffusers():
    """Computed with numpy and torch only: the installed diffusers cannot change them."""
    code = ("import sys; sys.modules['diffusers'] = None\n"
            "from ypt.sampler import scheduler_grid\n"
            "import hashlib\n"
            "print({b: hashlib.sha256(s.numpy().tobytes() + t.numpy().tobytes()).hexdigest() "
            "for b in ('flux', 'wan') for s, t in [scheduler_grid(b)]})")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(GRID_SHA256)


@pytest.mark.skipif(not os.environ.get("YPT_DIFFUSERS_0331"),
                    reason="set YPT_DIFFUSERS_0331 to an unpacked diffusers 0.33.1 wheel for the live comparison")
def test_grids_equal_diffusers_0_33_1_live():
    code = ("import json, hashlib, diffusers\n"
            "from diffusers import UniPCMultistepScheduler, FlowMatchEulerDiscreteScheduler\n"
            "u = UniPCMultistepScheduler(prediction_type='flow_prediction', use_flow_sigmas=True, "
            "num_train_timesteps=1000, flow_shift=1.0); u.set_timesteps(1000)\n"
            "f = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0); "
            "f.set_timesteps(1000, mu=None, sigmas=None)\n"
            "h = lambda s: hashlib.sha256(s.sigmas.float().numpy().tobytes() + s.timesteps.numpy().tobytes()).hexdigest()\n"
            "print(json.dumps({'version': diffusers.__version__, 'flux': h(f), 'wan': h(u)}))")
    env = {**os.environ, "PYTHONPATH": os.environ["YPT_DIFFUSERS_0331"]}
    live = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                     env=env).stdout)
    assert live == {"version": "0.33.1", **GRID_SHA256}


def test_flux_embeds_the_timestep_the_release_embeds(release, release_models):
    """Under the fp16 protocol both sides embed 252.875 at t = 0.2531 (grid timestep 253) and their velocities are
    identical; an 'exact' fp32 timestep or a bf16 backbone would embed another value."""
    from ypt.backbones.flux import FluxBackbone

    embedded = {}

    def capture(side):
        def hook(module, args, kwargs):
            embedded[side] = float((kwargs.get("timestep") if "timestep" in kwargs else args[0])[0])
        return hook

    model = release_model(release, release_models["flux"], "flux", torch.float16)
    model.scheduler.set_timesteps(1000, mu=None, sigmas=None)
    bridge = release.utils.EBRCustomBridge(T0=0.4, sigma_max=1.0, sigma_min=1e-4)
    z = torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.2531])
    t_idx = bridge.make_model_input(x_t=z, sigmas=sigma, scheduler=model.scheduler)["t"]
    handle = model.unet.time_text_embed.register_forward_pre_hook(capture("release"), with_kwargs=True)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.float16):
        theirs = model(x_in=z, t_idx=t_idx)
    handle.remove()
    flux = FluxBackbone.from_pretrained(release_models["flux"], dtype=torch.float16, device="cpu",
                                        null_context_file=None, max_sequence_length=FLUX_TEXT_LEN)
    handle = flux.transformer.time_text_embed.register_forward_pre_hook(capture("suite"), with_kwargs=True)
    with torch.no_grad():
        ours = flux.velocity(z, sigma)
    handle.remove()
    assert float(t_idx[0]) == pytest.approx(253.0, abs=1e-4)
    assert embedded == {"release": 252.875, "suite": 252.875}
    assert maxdiff(ours, theirs) == 0
