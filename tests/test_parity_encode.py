"""Release parity, items 2-4: the degraded latent (a posterior sample from the release's seeded stream, in its
evaluation order), the null-text contexts (text encoders in fp16, FLUX's under fp16 autocast) and the VAE's weights
(loaded fp16, then upcast). Both sides load the same tiny folders in the protocol's fp16; CPU autocast stands in for
the release's ``torch.autocast("cuda", fp16)`` (a no-op without CUDA) on both sides. Bit-exact.

The release's encode stream, restated from ``inference.py`` (``main`` seeds the global RNG with 123 before
building the model; ``test`` encodes the degraded input, then the target, of every sample it does not skip, with
``utils.encode_frames``, i.e. ``latent_dist.sample()`` on the VAE device's default generator)."""
from __future__ import annotations

import torch
from release_oracle import FLUX_TEXT_LEN, WAN_TEXT_LEN, maxdiff, release_model

from ypt.backbones.flux import FluxBackbone
from ypt.backbones.wan import WanBackbone
from ypt.restore import Restorer


def _release_encodings(release, vae, pairs, skipped=()):
    """What the release's loop encodes: per sample (unless skipped, as SICE's exposure index > 3 is, before any
    draw) the degraded input, then the target, from the global stream seeded 123."""
    torch.manual_seed(123)
    out = {}
    with torch.no_grad():
        for k, (degraded, target) in enumerate(pairs):
            if k in skipped:
                continue
            out[k] = release.utils.encode_frames(vae, degraded * 2.0 - 1.0)
            release.utils.encode_frames(vae, target * 2.0 - 1.0)
    return out


def _suite(cls, folder, text_len, **kwargs):
    return cls.from_pretrained(folder, dtype=torch.float16, device="cpu", null_context_file=None,
                               max_sequence_length=text_len, **kwargs)


def test_flux_degraded_latent_is_the_releases_posterior_draw(release, release_models):
    """Sample k of a run gets the draw the release's stream is at: two draws per earlier encoded sample, none for a
    skipped one."""
    model = release_model(release, release_models["flux"], "flux", torch.float16)
    g = torch.Generator().manual_seed(7)
    pairs = [(torch.rand(1, 3, 32, 32, generator=g), torch.rand(1, 3, 32, 32, generator=g)) for _ in range(4)]
    expected = _release_encodings(release, model.vae, pairs, skipped={1})
    flux = _suite(FluxBackbone, release_models["flux"], FLUX_TEXT_LEN)
    restorer = _restorer(flux, image_size=(32, 32))
    run = [k for k in range(4) if k != 1]  # the registry's list leaves SICE's skipped inputs out
    for position, k in enumerate(run):
        got = restorer.encode(pairs[k][0], [(1, 3, 32, 32)] * position)
        assert maxdiff(got, expected[k]) == 0, k


def test_wan_degraded_latent_is_the_releases_posterior_draw(release, release_models):
    """Clips of 5, 9 and 7 frames (7: not 4k+1, as 7 of 4KRD's 9 clips; its latent has the 5 frames the VAE
    reads): each draw has the clip's posterior shape."""
    model = release_model(release, release_models["wan"], "wan", torch.float16)
    g = torch.Generator().manual_seed(8)
    lengths = (5, 9, 7)
    pairs = [(torch.rand(1, 3, n, 32, 32, generator=g), torch.rand(1, 3, n, 32, 32, generator=g)) for n in lengths]
    expected = _release_encodings(release, model.vae, pairs)
    wan = _suite(WanBackbone, release_models["wan"], WAN_TEXT_LEN)
    restorer = _restorer(wan, video_size=(32, 32))
    for k, (degraded, _) in enumerate(pairs):
        used = restorer._clip_shape(lengths[k])[2]
        got = restorer.encode(degraded[:, :, :used], [restorer._clip_shape(n) for n in lengths[:k]])
        assert got.shape == expected[k].shape and maxdiff(got, expected[k]) == 0, k


def _restorer(backbone, **kwargs):
    from ypt.prompts import make_prompt

    return Restorer(backbone, [make_prompt("residual", backbone)], **kwargs)


def test_null_contexts_are_made_as_the_release_makes_them(release, release_models):
    """FLUX: T5 and CLIP in fp16, under the sampler's fp16 autocast (the release encodes "" lazily inside its
    first transformer call); WAN: UMT5 in fp16 without autocast (at load time)."""
    flux_model = release_model(release, release_models["flux"], "flux", torch.float16)
    z = torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.float16):
        flux_model(x_in=z, t_idx=torch.tensor([250]))
    flux = _suite(FluxBackbone, release_models["flux"], FLUX_TEXT_LEN).null_context()
    assert maxdiff(flux["encoder_hidden_states"], flux_model.prompt_batch.encoder_hidden_states) == 0
    assert maxdiff(flux["pooled_projections"], flux_model.prompt_batch.added_cond_kwargs["pooled_projections"]) == 0
    wan_model = release_model(release, release_models["wan"], "wan", torch.float16)
    wan = _suite(WanBackbone, release_models["wan"], WAN_TEXT_LEN).null_context()
    assert maxdiff(wan["encoder_hidden_states"], wan_model.backend.prompt_embeds_uncond_1) == 0
    assert flux_model.prompt_batch.encoder_hidden_states.dtype == wan_model.backend.prompt_embeds_uncond_1.dtype \
        == torch.float16


def test_vae_weights_carry_the_fp16_rounding_of_the_releases_load(release, release_models):
    for cls, backend, text_len in ((FluxBackbone, "flux", FLUX_TEXT_LEN), (WanBackbone, "wan", WAN_TEXT_LEN)):
        model = release_model(release, release_models[backend], backend, torch.float16)
        ours = _suite(cls, release_models[backend], text_len).vae.state_dict()
        theirs = model.vae.state_dict()
        assert ours.keys() == theirs.keys()
        assert all(ours[k].dtype == theirs[k].dtype == torch.float32 for k in ours if ours[k].is_floating_point())
        assert max(maxdiff(ours[k], theirs[k]) for k in ours) == 0, backend
