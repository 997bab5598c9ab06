"""Release parity, prompts (item 1 and the injection positions): the release's own prompt wrappers
(``model_prompts.PromptedDiffusionModel``, ``prompt_helpers.CrossAttnAddPromptsFlux`` / ``CrossAttnAddPrompts``)
loaded with a checkpoint of its exact structure as its ``inference.py`` loads it, against the suite's adapters
loading the same file (``ypt.prompts.load_prompt``) on the same tiny model folder. fp32: bit-exact."""
from __future__ import annotations

import torch
from official import write_official_checkpoint
from release_oracle import (
    FLUX_TEXT_LEN,
    WAN_TEXT_LEN,
    keyword_shim,
    load_checkpoint_as_inference_does,
    maxdiff,
    release_model,
    wan_wrappers_are_vacuous,
)

from ypt.backbones.flux import FluxBackbone
from ypt.backbones.wan import WanBackbone
from ypt.prompts import load_prompt


def _release_velocity(release, model, z, sigma, backend):
    """The model's output at noise level ``sigma`` with the timestep the release's bridge feeds it."""
    if backend == "flux":
        model.scheduler.set_timesteps(1000, mu=None, sigmas=None)
    else:
        model.scheduler.set_timesteps(1000)
    bridge = release.utils.EBRCustomBridge(T0=0.4, sigma_max=1.0, sigma_min=1e-4)
    t_idx = bridge.make_model_input(x_t=z, sigmas=sigma, scheduler=model.scheduler)["t"]
    with torch.no_grad():
        return model(x_in=z, t_idx=t_idx)


def _assert_suite_matches(cls, folder, text_len, path, z, sigma, plain, prompted):
    """The suite's adapter of the same model folder, with the same prompt file loaded as ``ypt.prompts`` loads it:
    its velocities without and with the prompt equal the release's bit for bit."""
    backbone = cls.from_pretrained(folder, dtype=torch.float32, device="cpu", null_context_file=None,
                                   max_sequence_length=text_len)
    prompt = load_prompt(path, backbone)
    with torch.no_grad():
        assert maxdiff(backbone.velocity(z, sigma), plain) == 0
        assert maxdiff(backbone.velocity(z, sigma, prompt), prompted) == 0


def test_flux_prompts_enter_as_the_releases_wrappers(release, release_models, tmp_path):
    """Every FLUX block's attention: double-stream blocks see ``context + a_i P``, single-stream blocks ``a_i P``
    on their first 512 tokens, gate i = wrapper i (19 double then 38 single in FLUX.1-dev)."""
    model = release_model(release, release_models["flux"], "flux", torch.float32)
    path = write_official_checkpoint(tmp_path / "flux_haze.pt", "flux", FLUX_TEXT_LEN,
                                     model.deep_prompt_bank.prompts.shape[-1], len(model._deep_prompt_wrappers))
    load_checkpoint_as_inference_does(model, path)
    z = torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.2531])
    prompted = _release_velocity(release, model, z, sigma, "flux")
    model.set_prompt_enabled(False)
    plain = _release_velocity(release, model, z, sigma, "flux")
    assert maxdiff(prompted, plain) > 1e-4  # the prompt acts: the comparison is not vacuous

    _assert_suite_matches(FluxBackbone, release_models["flux"], FLUX_TEXT_LEN, path, z, sigma, plain, prompted)


def test_flux_dev_gates_bind_to_the_release_wrappers_in_order(release):
    """On FLUX.1-dev's real config (meta device): the release's wrapper targets are the suite's blocks, in the
    same order, and its prompt width is the suite's."""
    from ypt.prompts.__main__ import paper_backbone_on_meta

    flux = paper_backbone_on_meta("flux")
    targets = release.model_prompts._collect_cross_attn_targets(flux.transformer, flux=True)
    assert [parent for parent, _, _ in targets] == flux.transformer_blocks()
    assert [name for _, name, _ in targets] == ["attn"] * 57
    assert {release.model_prompts._infer_cross_attn_dim(attn) for _, _, attn in targets} == {flux.prompt_width}


def test_wan_prompts_enter_as_the_releases_wrappers(release, release_models, tmp_path):
    """``attn2(h, c) + a_i attn2(h, c + P)`` in every WAN block. Under diffusers newer than 0.33.1 the release's
    wrappers are silently inactive (the block calls attn2 positionally); that is detected and the test-only keyword
    shim gives them the call 0.33.1 made, so the comparison is real: every wrapper must see the context."""
    model = release_model(release, release_models["wan"], "wan", torch.float32)
    path = write_official_checkpoint(tmp_path / "wan_haze.pt", "wan", WAN_TEXT_LEN,
                                     model.deep_prompt_bank.prompts.shape[-1], len(model._deep_prompt_wrappers))
    load_checkpoint_as_inference_does(model, path)
    z = torch.randn(1, 4, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.2531])

    def run():
        return _release_velocity(release, model, z, sigma, "wan")

    counters = keyword_shim(model) if wan_wrappers_are_vacuous(model, run) else None
    prompted = run()
    if counters is not None:
        assert all(c["context"] > 0 for c in counters), counters
    model.set_prompt_enabled(False)
    plain = run()
    assert maxdiff(prompted, plain) > 1e-3  # never vacuous

    _assert_suite_matches(WanBackbone, release_models["wan"], WAN_TEXT_LEN, path, z, sigma, plain, prompted)


def test_shim_detection_sees_the_positional_call(release, release_models):
    """The vacuity check itself: with open gates, the release's WAN wrappers change nothing exactly when the
    installed diffusers calls attn2 positionally (newer than 0.33.1), and act when it passes the context by keyword."""
    import inspect

    from diffusers.models.transformers.transformer_wan import WanTransformerBlock

    model = release_model(release, release_models["wan"], "wan", torch.float32)
    z = torch.randn(1, 4, 2, 4, 4, generator=torch.Generator().manual_seed(1))
    keyword_call = "encoder_hidden_states=encoder_hidden_states" in inspect.getsource(WanTransformerBlock.forward)
    with torch.no_grad():
        for wrapper in model._deep_prompt_wrappers:
            wrapper.alpha.fill_(0.5)
    vacuous = wan_wrappers_are_vacuous(model, lambda: _release_velocity(release, model, z, torch.tensor([0.3]), "wan"))
    assert vacuous is not keyword_call
