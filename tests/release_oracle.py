"""The authors' release as the oracle of the parity tests: its own modules imported in place from
``../shared/reference/ypt-official/release`` (never copied), tiny models it accepts, and the few stand-ins its code
needs on a CPU. Every substitution is named here and where it is used.

Importing. The release is a flat folder of scripts importing each other by bare names (``from utils import ...``),
so the folder is on ``sys.path`` only while :func:`load_release` imports; the generic names it defines (``utils``,
``dataset``, ``logger``, ``inference``, ``metric_utils``) leave ``sys.modules`` again (the returned modules keep
working and nothing else in the test session sees a module called ``utils``).

Stubbed imports, each used only by code the harness never runs:

* ``skvideo.measure`` (``metric_utils/val_utils.py`` imports ``niqe``; ``compute_psnr_ssim`` never calls it, and
  scikit-video does not install on numpy 2);
* ``torchmetrics.image.lpip`` and ``pyiqa`` (only ``inference.MetricComputer`` uses them, with ``.cuda()`` and
  downloaded weights; it is replaced by :class:`PsnrSsimRecorder`, which calls the release's own
  ``compute_psnr_ssim``);
* ``cv2`` / ``accelerate`` when not installed (``utils.save_video_mp4`` / ``inference.main`` only).

Tiny models. The release assumes FLUX's 16 latent channels (``FluxBackend._unpack_latents`` asserts 64 packed
channels), its 512-token T5 text (``encode_prompt_uncond`` pads to 512; ``CrossAttnAddPromptsFlux`` hard-codes 512
text tokens in single-stream blocks), guidance embeddings (it always passes ``guidance``) and WAN's 226 tokens. The
folders below are real diffusers pipelines saved to disk, so the release loads them through its own
``FluxPipeline/WanPipeline.from_pretrained(model_id, torch_dtype=...)`` and the suite through
``Backbone.from_pretrained``: the same files, each side's own loading.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import sys
import types
from pathlib import Path

import torch
from official import OFFICIAL
from test_backbones import tiny_tokenizer

RELEASE = OFFICIAL / "release"
RELEASE_NAMES = ("prompt_helpers", "model_prompts", "utils", "dataset", "dataset_images", "logger", "inference",
                 "metric_utils", "metric_utils.val_utils", "frames_to_vid")
SKIP_REASON = f"the authors' release is not at {RELEASE} (../shared/reference/ypt-official/release)"
FLUX_TEXT_LEN = 512
WAN_TEXT_LEN = 226


def _stub(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


class _Replaced:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("stubbed by the parity harness: the release's MetricComputer is replaced")


def _stubs() -> dict[str, types.ModuleType]:
    out = {"pyiqa": _stub("pyiqa", create_metric=_Replaced)}  # always: a slow import that downloads weights
    try:
        import skvideo.measure  # noqa: F401
    except Exception:  # noqa: BLE001  (scikit-video is broken on numpy 2 in more ways than ImportError)
        out["skvideo"] = _stub("skvideo")
        out["skvideo.measure"] = _stub("skvideo.measure", niqe=None)
    try:
        import torchmetrics.image.lpip  # noqa: F401
    except ImportError:
        out["torchmetrics"] = _stub("torchmetrics")
        out["torchmetrics.image"] = _stub("torchmetrics.image")
        out["torchmetrics.image.lpip"] = _stub("torchmetrics.image.lpip",
                                               LearnedPerceptualImagePatchSimilarity=_Replaced)
    from importlib.util import find_spec

    if find_spec("cv2") is None:
        out["cv2"] = _stub("cv2")
    if find_spec("accelerate") is None:
        out["accelerate"] = _stub("accelerate", Accelerator=_Replaced)
        out["accelerate.utils"] = _stub("accelerate.utils", set_seed=lambda *a, **k: None)
    return out


@contextlib.contextmanager
def _release_on_path(extra: dict[str, types.ModuleType]):
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if n in RELEASE_NAMES or n in extra}
    sys.modules.update(extra)
    sys.path.insert(0, str(RELEASE))
    try:
        yield
    finally:
        sys.path.remove(str(RELEASE))
        for name in list(sys.modules):
            if name in RELEASE_NAMES or name in extra:
                del sys.modules[name]
        sys.modules.update(saved)


def load_release(*names: str) -> types.SimpleNamespace:
    """The release's modules by file name (``load_release("model_prompts", "utils")``), dots as underscores."""
    found = {}
    with _release_on_path(_stubs()), contextlib.redirect_stdout(io.StringIO()):
        for name in names:
            found[name.replace(".", "_")] = importlib.import_module(name)
    return types.SimpleNamespace(**found)


def quiet():
    """The release prints configs and progress; the tests keep their output readable."""
    return contextlib.redirect_stdout(io.StringIO())


# ---- tiny models the release accepts -------------------------------------------------------------------------------
def save_tiny_flux(folder: Path, seed: int = 0) -> Path:
    """A FLUX pipeline folder: 2 double + 3 single blocks of width 32, 16 latent channels, 512 text tokens."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    if (folder / "model_index.json").is_file():
        return folder
    torch.manual_seed(seed)
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=64, num_layers=2, num_single_layers=3, attention_head_dim=16,
        num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=16, guidance_embeds=True,
        axes_dims_rope=(4, 6, 6))
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(8, 16), layers_per_block=1, latent_channels=16,
        norm_num_groups=4, shift_factor=0.1159, scaling_factor=0.3611, use_quant_conv=False,
        use_post_quant_conv=False)
    clip = CLIPTextModel(CLIPTextConfig(vocab_size=8, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, max_position_embeddings=77, projection_dim=16,
                                        eos_token_id=1, bos_token_id=0, pad_token_id=0))
    t5 = T5EncoderModel(T5Config(vocab_size=8, d_model=32, d_kv=8, d_ff=32, num_layers=1, num_heads=2))
    FluxPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=clip, tokenizer=tiny_tokenizer(77),
                 text_encoder_2=t5, tokenizer_2=tiny_tokenizer(FLUX_TEXT_LEN), transformer=transformer
                 ).save_pretrained(folder)
    return folder


def save_tiny_wan(folder: Path, seed: int = 0) -> Path:
    """A WAN pipeline folder: 3 blocks of width 16, a 4-channel causal video VAE, 226 text tokens."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    if (folder / "model_index.json").is_file():
        return folder
    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=8, in_channels=4, out_channels=4,
        text_dim=16, freq_dim=16, ffn_dim=32, num_layers=3, rope_max_seq_len=32)
    vae = AutoencoderKLWan(base_dim=4, z_dim=4, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True],
                           latents_mean=[0.1, -0.2, 0.3, 0.0], latents_std=[1.5, 0.5, 2.0, 1.0])
    umt5 = UMT5EncoderModel(UMT5Config(vocab_size=8, d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2))
    WanPipeline(tokenizer=tiny_tokenizer(WAN_TEXT_LEN), text_encoder=umt5, transformer=transformer, vae=vae,
                scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                                  flow_shift=1.0)).save_pretrained(folder)
    return folder


# ---- the release's model as its inference.py builds and loads it ---------------------------------------------------
def release_model(release, folder: Path, backend: str, dtype: torch.dtype):
    """``model_prompts.PromptedDiffusionModel`` as ``inference.main`` builds it (on the CPU) with the VAE upcast to
    fp32 (``inference.py``: ``vae.to(device, dtype=torch.float32)``)."""
    with quiet():
        model = release.model_prompts.PromptedDiffusionModel(
            model_id=str(folder), backend=backend, dtype=dtype, device="cpu",
            deep_prompt_len=FLUX_TEXT_LEN if backend == "flux" else WAN_TEXT_LEN)
    model.vae.to(device="cpu", dtype=torch.float32)
    return model.eval()


def load_checkpoint_as_inference_does(model, path: Path) -> None:
    """``inference.main``'s single-checkpoint branch: ``torch.load`` the file, ``deep_prompt_bank`` strictly, then
    the alphas copied into the wrappers in order."""
    saved = torch.load(str(path), map_location="cpu", weights_only=False)  # the release's own call
    model.deep_prompt_bank.load_state_dict(saved["deep_prompt_bank"], strict=True)
    for wrapper, alpha in zip(model._deep_prompt_wrappers, saved["alphas"]):
        wrapper.alpha.data.copy_(alpha.to(wrapper.alpha.device, dtype=wrapper.alpha.dtype))


# ---- the WAN wrapper under diffusers > 0.33.1 ----------------------------------------------------------------------
def wan_wrappers_are_vacuous(model, run) -> bool:
    """Whether the release's WAN prompt wrappers change nothing: ``run()`` with prompts enabled equals it with them
    disabled. Under diffusers > 0.33.1 ``WanTransformerBlock`` calls ``attn2(hidden, context, None, None)``
    positionally and ``CrossAttnAddPrompts.forward`` looks the context up in ``kwargs`` only, so it falls back to
    the unprompted attention."""
    model.set_prompt_enabled(True)
    on = run()
    model.set_prompt_enabled(False)
    off = run()
    model.set_prompt_enabled(True)
    return torch.equal(on, off)


def keyword_shim(model) -> list[dict[str, int]]:
    """Give each release WAN wrapper the call diffusers 0.33.1 made: the block's positional arguments bound to the
    wrapped attention's signature and handed to the release's own ``forward`` as keywords. Returns one counter per
    wrapper of the calls that carried a context (the caller asserts every wrapper saw it)."""
    counters = []
    for wrapper in model._deep_prompt_wrappers:
        signature = inspect.signature(wrapper._old_forward)
        release_forward = type(wrapper).forward
        seen = {"context": 0}

        def forward(hidden_states, *args, _w=wrapper, _sig=signature, _fwd=release_forward, _seen=seen, **kwargs):
            bound = _sig.bind(hidden_states, *args, **kwargs)
            keywords = {k: v for k, v in bound.arguments.items() if k != "hidden_states"}
            keywords.update(keywords.pop("kwargs", {}))
            if keywords.get("encoder_hidden_states") is not None:
                _seen["context"] += 1
            return _fwd(_w, hidden_states, **keywords)

        wrapper.forward = forward
        counters.append(seen)
    return counters


# ---- the release's metric loop, recorded ---------------------------------------------------------------------------
class PsnrSsimRecorder:
    """Stands in for ``inference.MetricComputer`` (LPIPS and pyiqa need ``.cuda()`` and downloaded weights): the
    same ``_clamp01(_to_bcthw(.))`` and the release's own ``compute_psnr_ssim`` per frame, averaged over frames as
    ``compute_video`` does; every sample's 512 px tensors and values are kept in :attr:`seen`."""

    def __init__(self, release):
        self.release = release
        self.seen: list[dict] = []

    def __call__(self, device):  # MetricComputer(device=...)
        return self

    def compute_video(self, pred_bcthw, gt_bcthw):
        inference, val_utils = self.release.inference, self.release.metric_utils_val_utils
        pred = inference._clamp01(inference._to_bcthw(pred_bcthw)).float()
        gt = inference._clamp01(inference._to_bcthw(gt_bcthw)).float()
        values = [val_utils.compute_psnr_ssim(pred[:, :, t], gt[:, :, t])[:2] for t in range(pred.shape[2])]
        psnr = sum(v[0] for v in values) / len(values)
        ssim = sum(v[1] for v in values) / len(values)
        self.seen.append({"pred": pred, "gt": gt, "psnr": psnr, "ssim": ssim})
        return {"psnr": psnr, "ssim": ssim}


def record_transformer_calls(transformer, calls: list) -> torch.utils.hooks.RemovableHandle:
    """Keep ``(timestep, hidden_states)`` of every call of ``transformer``."""
    def hook(module, args, kwargs):
        calls.append((kwargs["timestep"].detach().float().clone(), kwargs["hidden_states"].detach().float().clone()))

    return transformer.register_forward_pre_hook(hook, with_kwargs=True)


def maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())
