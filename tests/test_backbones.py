"""Backbone adapters on tiny FLUX / WAN components built from config: latent normalisation, FLUX packing and ids,
WAN frame compression, the timestep convention, x0 prediction, null-text context caching and offline loading."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ypt.backbones.base import scheduler_timestep
from ypt.backbones.loading import MissingModelError
from ypt.backbones.flux import FluxBackbone, image_ids, pack_latents, unpack_latents
from ypt.backbones.wan import WanBackbone

TEXT_LEN = 8


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny models run 3-4x faster on one thread on a shared, loaded CPU; restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- tiny components (built from config, nothing downloaded) ---------------------------------------------------
def tiny_tokenizer(max_length: int = TEXT_LEN):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, "remove": 3, "haze": 4, "rain": 5}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=max_length)


def tiny_flux_components(seed: int = 0, layers: int = 1, single_layers: int = 1) -> dict:
    from diffusers import AutoencoderKL, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    torch.manual_seed(seed)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=16, num_layers=layers, num_single_layers=single_layers, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=16, guidance_embeds=True,
        axes_dims_rope=(4, 6, 6))
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(8, 16), layers_per_block=1, latent_channels=4,
        norm_num_groups=4, shift_factor=0.1159, scaling_factor=0.3611, use_quant_conv=False,
        use_post_quant_conv=False)
    clip = CLIPTextModel(CLIPTextConfig(vocab_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, max_position_embeddings=TEXT_LEN, projection_dim=16))
    t5 = T5EncoderModel(T5Config(vocab_size=8, d_model=32, d_kv=8, d_ff=32, num_layers=1, num_heads=2))
    return {"transformer": transformer, "vae": vae, "text_encoder": clip, "tokenizer": tiny_tokenizer(),
            "text_encoder_2": t5, "tokenizer_2": tiny_tokenizer()}


def tiny_wan_components(seed: int = 0, layers: int = 2) -> dict:
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=4, out_channels=4,
        text_dim=16, freq_dim=16, ffn_dim=32, num_layers=layers, rope_max_seq_len=32)
    vae = AutoencoderKLWan(base_dim=4, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True],
                           latents_mean=[0.1, -0.2, 0.3, 0.0], latents_std=[1.5, 0.5, 2.0, 1.0])
    umt5 = UMT5EncoderModel(UMT5Config(vocab_size=8, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2))
    return {"transformer": transformer, "vae": vae, "text_encoder": umt5, "tokenizer": tiny_tokenizer()}


def tiny_flux(seed: int = 0, **kw) -> FluxBackbone:
    return FluxBackbone(**tiny_flux_components(seed, **kw), max_sequence_length=TEXT_LEN, dtype=torch.float32)


def tiny_wan(seed: int = 0, **kw) -> WanBackbone:
    return WanBackbone(**tiny_wan_components(seed, **kw), max_sequence_length=TEXT_LEN, dtype=torch.float32)


def save_tiny_folder(components: dict, folder: Path) -> Path:
    for name, part in components.items():
        part.save_pretrained(folder / name)
    (folder / "model_index.json").write_text("{}")
    return folder


# ---- FLUX --------------------------------------------------------------------------------------------------------
def test_flux_packing_matches_the_pipeline_and_round_trips():
    from diffusers import FluxPipeline

    z = torch.randn(2, 4, 6, 10)
    packed = pack_latents(z)
    assert packed.shape == (2, 15, 16)
    assert torch.equal(packed, FluxPipeline._pack_latents(z, 2, 4, 6, 10))
    assert torch.equal(unpack_latents(packed, 6, 10), z)
    # the pipeline's unpack takes pixel sizes (latent * vae scale 8)
    assert torch.equal(unpack_latents(packed, 6, 10), FluxPipeline._unpack_latents(packed, 48, 80, 8))
    ids = image_ids(3, 5)
    assert torch.equal(ids, FluxPipeline._prepare_latent_image_ids(2, 3, 5, "cpu", torch.float32))
    assert ids[7].tolist() == [0.0, 1.0, 2.0]  # token 7 = row 1, column 2


def test_flux_encode_decode_normalisation():
    flux = tiny_flux()
    x = torch.rand(2, 3, 32, 48)
    z = flux.encode(x)
    assert z.shape == (2, 4, 16, 24)
    raw = flux.vae.encode(x * 2 - 1).latent_dist.mode()
    torch.testing.assert_close(z, (raw - 0.1159) * 0.3611)
    out = flux.decode(z)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    torch.testing.assert_close(out, ((flux.vae.decode(raw).sample + 1) / 2).clamp(0, 1))
    with pytest.raises(ValueError, match="divisible by 4"):
        flux.encode(torch.rand(1, 3, 30, 32))


def test_flux_velocity_follows_the_pipeline_convention():
    flux = tiny_flux()
    z = torch.randn(2, 4, 4, 6)
    sigma = torch.tensor([0.3, 0.0421])
    v = flux.velocity(z, sigma)
    null = flux.null_context()
    with torch.no_grad():
        ref = flux.transformer(
            hidden_states=pack_latents(z), encoder_hidden_states=null["encoder_hidden_states"].expand(2, -1, -1),
            pooled_projections=null["pooled_projections"].expand(2, -1),
            timestep=torch.tensor([300.0, 42.0]) / 1000, guidance=torch.ones(2),
            img_ids=image_ids(2, 3), txt_ids=torch.zeros(TEXT_LEN, 3), return_dict=False)[0]
    torch.testing.assert_close(v, unpack_latents(ref, 4, 6))
    torch.testing.assert_close(flux.predict_x0(z, sigma), z - sigma.view(2, 1, 1, 1) * v)
    assert torch.equal(scheduler_timestep(torch.tensor([0.0, 0.4, 0.00049, 1.0])), torch.tensor([1.0, 400, 1, 1000]))
    # WAN's UniPC flow grid truncates (the release feeds 399 at sigma 0.4) and ends at timestep 0 (diffusers 0.33.1)
    assert torch.equal(scheduler_timestep(torch.tensor([0.0, 0.25, 0.4, 1.0]), "wan"),
                       torch.tensor([0.0, 249, 399, 999]))


def test_flux_null_context_is_the_empty_prompt_and_cached(tmp_path):
    flux = tiny_flux()
    flux.null_context_file = tmp_path / "null.safetensors"
    null = flux.null_context()
    assert null["encoder_hidden_states"].shape == (1, TEXT_LEN, 32)
    assert null["pooled_projections"].shape == (1, 16)
    ids = torch.tensor([[1] + [0] * (TEXT_LEN - 1)])  # "" -> </s> then padding
    with torch.no_grad():
        torch.testing.assert_close(null["encoder_hidden_states"], flux.text_encoder_2(ids)[0])
        torch.testing.assert_close(null["pooled_projections"], flux.text_encoder(ids).pooler_output)
    flux.drop_text_encoders()
    assert flux.null_context_file.is_file()
    assert torch.equal(flux.null_context()["encoder_hidden_states"], null["encoder_hidden_states"])


# ---- WAN ---------------------------------------------------------------------------------------------------------
def test_wan_33_frames_give_9_latent_frames_and_normalise():
    wan = tiny_wan()
    x = torch.rand(1, 3, 33, 32, 32)
    z = wan.encode(x)
    assert z.shape == (1, 4, 9, 4, 4) and wan.latent_frames(33) == 9
    raw = wan.vae.encode(x * 2 - 1).latent_dist.mode()
    mean = torch.tensor([0.1, -0.2, 0.3, 0.0]).view(1, 4, 1, 1, 1)
    std = torch.tensor([1.5, 0.5, 2.0, 1.0]).view(1, 4, 1, 1, 1)
    torch.testing.assert_close(z, (raw - mean) / std)
    out = wan.decode(z)
    assert out.shape == (1, 3, 33, 32, 32)
    with pytest.raises(ValueError, match="4k\\+1"):
        wan.encode(torch.rand(1, 3, 32, 32, 32))


def test_wan_velocity_and_null_context():
    wan = tiny_wan()
    null = wan.null_context()["encoder_hidden_states"]
    assert null.shape == (1, TEXT_LEN, 16)
    assert null[0, 1:].abs().max() == 0 and null[0, 0].abs().max() > 0  # cut at "" 's length, zero-padded
    z = torch.randn(2, 4, 3, 4, 4)
    sigma = torch.tensor([0.25, 0.4])
    with torch.no_grad():
        ref = wan.transformer(hidden_states=z, timestep=torch.tensor([249.0, 399.0]),
                              encoder_hidden_states=null.expand(2, -1, -1), return_dict=False)[0]
    torch.testing.assert_close(wan.velocity(z, sigma), ref)
    torch.testing.assert_close(wan.predict_x0(z, sigma), z - sigma.view(2, 1, 1, 1, 1) * ref)


def test_half_precision_keeps_vae_fp32_and_wan_fp32_modules():
    wan = WanBackbone(**tiny_wan_components(), max_sequence_length=TEXT_LEN, dtype=torch.bfloat16)
    assert all(p.dtype == torch.float32 for p in wan.vae.parameters())
    assert wan.transformer.patch_embedding.weight.dtype == torch.bfloat16
    assert wan.transformer.scale_shift_table.dtype == torch.float32  # WAN's _keep_in_fp32_modules
    assert not any(p.requires_grad for p in wan.parameters_frozen())
    v = wan.velocity(torch.randn(1, 4, 1, 4, 4), 0.3)
    assert v.dtype == torch.float32 and torch.isfinite(v).all()


# ---- loading -----------------------------------------------------------------------------------------------------
def test_from_pretrained_local_folder_offline_and_null_context_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    parts = tiny_flux_components()
    folder = save_tiny_folder(parts, tmp_path / "flux")
    flux = FluxBackbone.from_pretrained(folder, dtype=torch.float32, max_sequence_length=TEXT_LEN)
    assert not flux.has_text_encoders()  # dropped after the null context was computed
    assert flux.null_context_file.is_file() and str(tmp_path / "cache") in str(flux.null_context_file)
    z = torch.randn(1, 4, 4, 4)
    ref = FluxBackbone(**parts, max_sequence_length=TEXT_LEN, dtype=torch.float32)
    torch.testing.assert_close(flux.velocity(z, 0.2), ref.velocity(z, 0.2))
    # warm null-context cache: the text encoders are not even read
    for name in ("text_encoder", "text_encoder_2"):
        for f in (folder / name).iterdir():
            f.unlink()
    again = FluxBackbone.from_pretrained(folder, dtype=torch.float32, max_sequence_length=TEXT_LEN)
    torch.testing.assert_close(again.velocity(z, 0.2), ref.velocity(z, 0.2))


def test_wan_from_pretrained_local_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("YPT_CACHE", str(tmp_path / "cache"))
    parts = tiny_wan_components()
    folder = save_tiny_folder(parts, tmp_path / "wan")
    wan = WanBackbone.from_pretrained(folder, dtype=torch.float32, max_sequence_length=TEXT_LEN)
    ref = WanBackbone(**parts, max_sequence_length=TEXT_LEN, dtype=torch.float32)
    z = torch.randn(1, 4, 1, 4, 4)
    torch.testing.assert_close(wan.velocity(z, 0.3), ref.velocity(z, 0.3))


def test_missing_models_give_a_clear_message(tmp_path):
    with pytest.raises(MissingModelError, match="hf download black-forest-labs/FLUX.1-dev"):
        FluxBackbone.from_pretrained(cache_dir=tmp_path / "hub")  # an empty HF cache
    with pytest.raises(MissingModelError, match="no folder at .*nowhere"):
        WanBackbone.from_pretrained(tmp_path / "nowhere")
    (tmp_path / "empty" / "transformer").mkdir(parents=True)
    with pytest.raises(MissingModelError, match="cannot load transformer/"):
        WanBackbone.from_pretrained(tmp_path / "empty")


def test_package_import_is_lazy():
    code = ("import sys, ypt.backbones, ypt.train; "
            "bad = [m for m in ('torch', 'diffusers', 'pyiqa') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


# ---- the real models (run where they are cached: pytest -m gpu) ------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("name", ["flux", "wan"])
def test_real_backbone_vae_round_trip_and_finite_velocity(name):
    from ypt.backbones import load_backbone

    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        bb = load_backbone(name, dtype=torch.bfloat16, device=device)
    except MissingModelError as err:
        pytest.skip(str(err))
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 256), torch.linspace(0, 1, 256), indexing="ij")
    img = torch.stack([yy, xx, (yy + xx) / 2])  # smooth: the VAE reproduces it almost exactly
    pixels = img[None] if name == "flux" else img[None, :, None].expand(1, 3, 5, 256, 256)
    z = bb.encode(pixels)
    out = bb.decode(z).cpu()
    psnr = -10 * torch.log10((out - pixels).pow(2).mean())
    assert psnr > 30, psnr
    assert abs(float(z.mean())) < 1.0 and 0.2 < float(z.std()) < 3.0  # normalised latents
    v = bb.velocity(z, 0.3)
    assert v.shape == z.shape and torch.isfinite(v).all()


def test_full_size_models_on_the_meta_device_take_protocol_latents_and_paper_prompts():
    """FLUX.1-dev and WAN 2.1 1.3B widths (no weights; 2 blocks instead of 57 / 30 to stay fast): protocol-size
    latents through the adapters with the paper's prompt sizes attached (FLUX 512 x 3072, WAN 226 x 1536)."""
    from diffusers import AutoencoderKL, AutoencoderKLWan, FluxTransformer2DModel, WanTransformer3DModel

    from ypt.backbones.prompting import new_prompt

    with torch.device("meta"):
        wan_tr = WanTransformer3DModel(num_attention_heads=12, attention_head_dim=128, ffn_dim=8960, num_layers=2)
        wan_vae = AutoencoderKLWan()
        flux_tr = FluxTransformer2DModel(num_layers=1, num_single_layers=1, guidance_embeds=True)  # else FLUX.1-dev
        flux_vae = AutoencoderKL(latent_channels=16, block_out_channels=(128, 256, 512, 512),
                                 down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
    wan = WanBackbone(wan_tr, wan_vae, dtype=torch.bfloat16, device="meta")
    wan._null = {"encoder_hidden_states": torch.zeros(1, 226, 4096)}
    flux = FluxBackbone(flux_tr, flux_vae, dtype=torch.bfloat16, device="meta")
    flux._null = {"encoder_hidden_states": torch.zeros(1, 512, 4096), "pooled_projections": torch.zeros(1, 768)}
    assert flux.vae_scale_factor == 8 and wan.latent_frames(33) == 9 and wan.spatial_compression == 8
    for bb, shape, prompt_shape in [(flux, (1, 16, 128, 128), (1, 512, 3072)),
                                    (wan, (1, 16, 9, 60, 104), (1, 226, 1536))]:
        prompt = new_prompt("residual", bb).to("meta")
        assert tuple(prompt.prompt.shape) == prompt_shape
        z = torch.empty(shape, device="meta")
        assert bb.predict_x0(z, torch.tensor([0.3], device="meta"), prompt).shape == shape


def test_predictor_mixes_prompts_by_averaging_their_estimates():
    """Mixed degradations: ``predictor([a, b])`` is the mean of the single-prompt estimates (x0_hat is affine in the
    velocity at fixed z and sigma, so this is the velocity mean the release uses); two copies of one prompt equal
    that prompt alone; the bridge's sigma(t) is what the backbone sees."""
    from ypt.backbones.prompting import new_prompt
    from ypt.bridges import make_bridge

    bb = tiny_flux()
    g = torch.Generator().manual_seed(3)
    a, b = new_prompt("residual", bb), new_prompt("residual", bb)
    with torch.no_grad():
        for p in (a, b):
            p.gates.fill_(1.0)
            p.prompt.normal_(0, 1.0, generator=g)
    z, t = torch.randn(2, 4, 4, 4, generator=g), torch.tensor([0.3, 0.1])
    bridge = make_bridge("ddbm", 0.4, 1e-4)
    with torch.no_grad():
        one_a, one_b = bb.predict_x0(z, bridge.sigma(t), a), bb.predict_x0(z, bridge.sigma(t), b)
        mixed = bb.predictor([a, b], bridge)(z, t)
        twice = bb.predictor([a, a], bridge)(z, t)
    assert (one_a - one_b).abs().max() > 1e-3  # the two prompts really differ
    torch.testing.assert_close(mixed, (one_a + one_b) / 2)
    torch.testing.assert_close(twice, one_a)
