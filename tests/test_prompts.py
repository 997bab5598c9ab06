"""Prompt conditioning on tiny FLUX / WAN transformers: zero gates are exact no-ops, only prompt tensors train,
files round-trip exactly, and the authors' released prompts load: wan_*.pt into a module sized for WAN 2.1 1.3B, and
files of their flux_*.pt structure into FLUX.1-dev (built on the meta device) and, scaled down, into a tiny FLUX that
restores with them."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from official import OFFICIAL as OFFICIAL_ROOT, write_official_checkpoint
import torch
from test_backbones import TEXT_LEN, tiny_flux, tiny_wan

from ypt.errors import MissingPrompt
from ypt.prompts import (
    PromptShapeError,
    default_prompt_path,
    load_official,
    load_prompt,
    make_prompt,
    read_sidecar,
    save_prompt,
)

CKPTS = OFFICIAL_ROOT / "ckpts"


@pytest.fixture(scope="module")
def flux():
    return tiny_flux(layers=2, single_layers=2)


@pytest.fixture(scope="module")
def wan():
    return tiny_wan(layers=2)


def _flux_latents():
    return torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))


def _wan_latents():
    return torch.randn(2, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0))


def _velocity(backbone, z, prompt=None):
    with torch.no_grad():
        return backbone.velocity(z, torch.tensor([0.3, 0.2]), prompt)


@pytest.mark.parametrize("which", ["flux", "wan"])
def test_zero_gates_leave_the_output_unchanged_and_open_gates_change_it(which, flux, wan):
    backbone, z = (flux, _flux_latents()) if which == "flux" else (wan, _wan_latents())
    prompt = make_prompt("residual", backbone, TEXT_LEN, generator=torch.Generator().manual_seed(1))
    assert prompt.gates.shape == (4 if which == "flux" else 2,)
    plain = _velocity(backbone, z)
    torch.testing.assert_close(_velocity(backbone, z, prompt), plain, rtol=0, atol=1e-6)
    with torch.no_grad():
        prompt.gates.fill_(1.0)
        prompt.prompt.mul_(50)
    assert (_velocity(backbone, z, prompt) - plain).abs().max() > 1e-3
    # detached again: the transformer is exactly as before
    torch.testing.assert_close(_velocity(backbone, z), plain, rtol=0, atol=0)


def test_wan_residual_is_gate_times_the_shifted_cross_attention(wan):
    """attn2(h, c) + a * attn2(h, c + P), checked on the first block's cross-attention directly."""
    prompt = make_prompt("residual", wan, TEXT_LEN)
    with torch.no_grad():
        prompt.gates.copy_(torch.tensor([0.7, -0.3]))
    attn2 = wan.transformer.blocks[0].attn2
    h = torch.randn(1, 5, 16)
    c = torch.randn(1, TEXT_LEN, 16)
    with torch.no_grad():
        expected = attn2(h, c, None, None) + 0.7 * attn2(h, c + prompt.prompt, None, None)
        with prompt.applied(wan):
            got = attn2(h, c, None, None)
    torch.testing.assert_close(got, expected)


def test_wan_residual_projects_the_query_once_and_restores_the_processor(wan):
    """While applied, attn2 runs one to_q for both passes; any other processor gets the generic two-call hook with
    the same result; leaving the block puts diffusers' own processor back."""
    prompt = make_prompt("residual", wan, TEXT_LEN, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        prompt.gates.copy_(torch.tensor([0.7, -0.3]))
    attn2 = wan.transformer.blocks[0].attn2
    original = attn2.processor
    g = torch.Generator().manual_seed(3)
    h, c = torch.randn(2, 5, 16, generator=g), torch.randn(2, TEXT_LEN, 16, generator=g)
    calls = []
    counter = attn2.to_q.register_forward_hook(lambda *_: calls.append(1))
    try:
        with torch.no_grad():
            with prompt.applied(wan):
                assert attn2.processor is not original
                shared = attn2(h, c, None, None)
            assert len(calls) == 1 and attn2.processor is original

            class Custom(type(original)):  # a user's own processor: not ours to replace
                pass

            attn2.processor = Custom()
            try:
                with prompt.applied(wan):
                    generic = attn2(h, c, None, None)
            finally:
                attn2.processor = original
        assert len(calls) == 3
    finally:
        counter.remove()
    torch.testing.assert_close(shared, generic, rtol=0, atol=1e-6)


def test_flux_residual_shifts_the_attention_inputs_only(flux):
    """Double blocks: attn(h, c + a*P); single blocks: attn on the joint tokens with a*P on the first L (text)."""
    prompt = make_prompt("residual", flux, TEXT_LEN, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        prompt.gates.copy_(torch.tensor([0.7, -0.3, 0.4, 1.5]))
    double, single = flux.transformer.transformer_blocks[0], flux.transformer.single_transformer_blocks[1]
    g = torch.Generator().manual_seed(6)
    h, c, joint = (torch.randn(1, 6, 32, generator=g), torch.randn(1, TEXT_LEN, 32, generator=g),
                   torch.randn(1, TEXT_LEN + 6, 32, generator=g))
    shifted_joint = torch.cat([joint[:, :TEXT_LEN] + 1.5 * prompt.prompt, joint[:, TEXT_LEN:]], dim=1)
    with torch.no_grad():
        expected_double = double.attn(hidden_states=h, encoder_hidden_states=c + 0.7 * prompt.prompt)
        expected_single = single.attn(hidden_states=shifted_joint)
        with prompt.applied(flux):
            got_double = double.attn(hidden_states=h, encoder_hidden_states=c)
            got_single = single.attn(hidden_states=joint)
        plain_single = single.attn(hidden_states=joint)
    for got, want in zip(got_double, expected_double):
        torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_single, expected_single)
    assert (plain_single - expected_single).abs().max() > 1e-4


@pytest.mark.parametrize("which", ["flux", "wan"])
@pytest.mark.parametrize("checkpointing", [False, True])
def test_only_prompt_parameters_receive_gradients(which, checkpointing, flux, wan):
    backbone, z = (flux, _flux_latents()) if which == "flux" else (wan, _wan_latents())
    transformer = backbone.transformer
    before = {k: v.clone() for k, v in transformer.state_dict().items()}
    if checkpointing:
        transformer.enable_gradient_checkpointing()
        transformer.train()
    try:
        prompt = make_prompt("residual", backbone, TEXT_LEN)
        with torch.no_grad():
            prompt.gates.fill_(0.5)
        with backbone.attached(prompt):
            loss = backbone.velocity(z, torch.tensor([0.3, 0.2]), prompt).pow(2).mean()
            loss.backward()
    finally:
        transformer.disable_gradient_checkpointing()
        transformer.eval()
    assert prompt.prompt.grad is not None and prompt.prompt.grad.abs().sum() > 0
    assert prompt.gates.grad is not None and prompt.gates.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in transformer.parameters())
    for k, v in transformer.state_dict().items():
        assert torch.equal(v, before[k]), k


@pytest.mark.parametrize("which", ["flux", "wan"])
def test_residual_prompt_under_bf16_autocast(which, flux, wan):
    """Zero gates stay an exact no-op and gradients reach P and the gates when the transformer runs in autocast."""
    backbone, z = (flux, _flux_latents()) if which == "flux" else (wan, _wan_latents())
    prompt = make_prompt("residual", backbone, TEXT_LEN, generator=torch.Generator().manual_seed(2))
    sigma = torch.tensor([0.3, 0.2])
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        plain = backbone.velocity(z, sigma)
        gated_off = backbone.velocity(z, sigma, prompt)
    assert plain.dtype == torch.float32 and torch.equal(gated_off, plain)
    with torch.no_grad():
        prompt.gates.fill_(0.5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        backbone.velocity(z, sigma, prompt).pow(2).mean().backward()
    assert prompt.prompt.grad.dtype == torch.float32 and prompt.prompt.grad.abs().sum() > 0
    assert prompt.gates.grad.abs().sum() > 0


def test_a_second_prompt_cannot_stack_on_an_attached_one(wan):
    first = make_prompt("residual", wan, TEXT_LEN)
    second = make_prompt("residual", wan, TEXT_LEN)
    with first.applied(wan), pytest.raises(RuntimeError, match="already attached"), \
            second.applied(wan):
        pass
    with second.applied(wan):  # released on exit
        pass


def test_embedding_prompt_replaces_the_context_and_starts_from_init(flux, wan):
    null = wan.null_context()
    prompt = make_prompt("embedding", wan, TEXT_LEN, init=null)
    assert prompt.embedding.shape == (1, TEXT_LEN, 16)
    z = _wan_latents()
    # initialised at the null context: the same output as unprompted
    torch.testing.assert_close(_velocity(wan, z, prompt), _velocity(wan, z), rtol=1e-5, atol=1e-6)
    flux_prompt = make_prompt("embedding", flux, TEXT_LEN)
    assert flux_prompt.embedding.shape == (1, TEXT_LEN, 32) and flux_prompt.pooled.shape == (1, 16)
    assert (_velocity(flux, _flux_latents(), flux_prompt) - _velocity(flux, _flux_latents())).abs().max() > 0


def test_token_prompt_trains_through_the_frozen_text_encoder(wan):
    encoder = wan.text_encoder
    prompt = make_prompt("token", wan, TEXT_LEN, text_encoder=encoder, num_tokens=3)
    with wan.attached(prompt):
        wan.velocity(_wan_latents(), torch.tensor([0.3, 0.2]), prompt).pow(2).mean().backward()
    assert prompt.tokens.grad is not None and prompt.tokens.grad.abs().sum() > 0
    assert all(p.grad is None for p in encoder.parameters())
    assert [k for k in prompt.state_dict()] == ["tokens"]


def test_text_prompt_uses_the_instruction_context(wan):
    context = wan.encode_text("remove haze")
    prompt = make_prompt("text", wan, context=context, instruction="remove haze")
    assert prompt.num_trainable() == 0
    z = _wan_latents()
    with torch.no_grad():
        expected = wan._transformer_velocity(z, torch.tensor([0.3, 0.2]), context)
    torch.testing.assert_close(_velocity(wan, z, prompt), expected.float())


def test_unknown_variant_names_close_match(flux):
    with pytest.raises(ValueError, match="Did you mean 'residual'"):
        make_prompt("residul", flux)


@pytest.mark.parametrize("variant", ["residual", "embedding"])
def test_save_load_round_trip_is_exact(variant, tmp_path, flux):
    prompt = make_prompt(variant, flux, TEXT_LEN, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for p in prompt.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(4)))
    path = save_prompt(prompt, tmp_path / "haze", {"backbone": "flux", "t0": 0.4, "degradation": "haze"})
    assert path.suffix == ".safetensors"
    meta = read_sidecar(path)
    assert meta["variant"] == variant and meta["arch"] == "flux" and meta["t0"] == 0.4
    loaded = load_prompt(path, flux)
    for (k, a), (k2, b) in zip(prompt.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["haze.json", "haze.safetensors"]


def test_loading_into_a_different_transformer_is_refused(tmp_path, flux, wan):
    path = save_prompt(make_prompt("residual", flux, TEXT_LEN), tmp_path / "p")
    with pytest.raises(PromptShapeError, match="trained for flux"):
        load_prompt(path, wan)
    bigger = tiny_flux(layers=3, single_layers=2)
    with pytest.raises(PromptShapeError, match=r"gates: file \(4,\) vs model \(5,\)"):
        load_prompt(path, bigger)


def test_default_prompt_path(tmp_path, monkeypatch):
    monkeypatch.setenv("YPT_PROMPTS", str(tmp_path))
    assert default_prompt_path("wan", "haze") == tmp_path / "wan" / "residual-ebr-t00.4" / "haze.safetensors"
    assert default_prompt_path("flux", "rain", "embedding", "ddbm", 0.3, root="/x") == \
        Path("/x/flux/embedding-ddbm-t00.3/rain.safetensors")


@pytest.fixture(scope="module")
def wan_1_3b():
    from ypt.prompts.__main__ import paper_backbone_on_meta

    return paper_backbone_on_meta("wan")


@pytest.mark.skipif(not CKPTS.is_dir(), reason=f"official checkpoints not found at {CKPTS}")
def test_official_wan_prompts_load_into_wan_1_3b(wan_1_3b):
    assert wan_1_3b.num_gates == len(wan_1_3b.transformer.blocks) == 30 and wan_1_3b.prompt_width == 1536
    for degradation in ("haze", "rain", "snow", "lowlight", "blur"):
        prompt = load_official(CKPTS / f"wan_{degradation}.pt", wan_1_3b)
        assert prompt.prompt.shape == (1, 226, 1536) and prompt.gates.shape == (30,)
        assert prompt.num_trainable() == 226 * 1536 + 30  # the paper's "~300K" residual budget
        assert prompt.gates.abs().sum() > 0  # trained gates, not the zero initialisation
    raw = torch.load(CKPTS / "wan_haze.pt", map_location="cpu", weights_only=True)
    assert torch.equal(load_official(CKPTS / "wan_haze.pt", wan_1_3b).prompt.detach(),
                       raw["deep_prompt_bank"]["prompts"].float())


@pytest.mark.skipif(not CKPTS.is_dir(), reason=f"official checkpoints not found at {CKPTS}")
def test_official_prompt_with_mismatched_shape_is_refused(wan):
    with pytest.raises(PromptShapeError, match=r"prompt: file \(1, 226, 1536\) vs model \(1, 226, 16\)"):
        load_official(CKPTS / "wan_haze.pt", wan)


@pytest.mark.skipif(not CKPTS.is_dir(), reason=f"official checkpoints not found at {CKPTS}")
def test_import_official_cli_writes_loadable_prompts(tmp_path, wan_1_3b, capsys):
    from ypt.prompts.__main__ import main

    assert main(["import-official", "--src", str(CKPTS), "--root", str(tmp_path)]) == 0
    path = default_prompt_path("wan", "snow", root=tmp_path)
    assert read_sidecar(path)["source"] == "official release wan_snow.pt"
    torch.testing.assert_close(load_prompt(path, wan_1_3b).gates.detach(),
                               load_official(CKPTS / "wan_snow.pt", wan_1_3b).gates.detach())
    capsys.readouterr()
    assert main(["show", str(path)]) == 0
    assert '"degradation": "snow"' in capsys.readouterr().out
    assert main(["show", str(CKPTS / "wan_snow.pt")]) == 0
    assert ("backend wan, {'prompt': (1, 226, 1536), 'gates': (30,)}; fits WAN 2.1 T2V 1.3B (30 prompted blocks, "
            "prompt width 1536)") in capsys.readouterr().out
    assert main(["show", str(tmp_path / "missing.safetensors")]) == MissingPrompt.exit_code  # one line, no traceback
    assert capsys.readouterr().err.startswith("error: prompt file")


@pytest.fixture(scope="module")
def flux_dev():
    from ypt.prompts.__main__ import paper_backbone_on_meta

    return paper_backbone_on_meta("flux")


def _flux_dev_file(path, **shape):
    """A checkpoint of the release's flux_*.pt structure with FLUX.1-dev's real shapes (or ``shape`` overrides)."""
    return write_official_checkpoint(path, "flux", **{"text_len": 512, "dim": 3072, "n_gates": 19 + 38, **shape})


def test_official_flux_prompts_are_shown_and_imported_against_flux_dev(tmp_path, flux_dev, capsys):
    from ypt.prompts.__main__ import main

    assert len(flux_dev.transformer.transformer_blocks) == 19 and len(flux_dev.transformer.single_transformer_blocks) == 38
    assert flux_dev.num_gates == 57 and flux_dev.prompt_width == 3072
    src = tmp_path / "ckpts"
    src.mkdir()
    for degradation in ("haze", "blur"):
        _flux_dev_file(src / f"flux_{degradation}.pt", seed=len(degradation))
    assert main(["show", str(src / "flux_haze.pt")]) == 0
    assert ("flux_haze.pt: backend flux, {'prompt': (1, 512, 3072), 'gates': (57,)}; fits FLUX.1-dev (57 prompted "
            "blocks, prompt width 3072)") in capsys.readouterr().out
    assert main(["import-official", "--src", str(src), "--root", str(tmp_path / "prompts")]) == 0
    written = capsys.readouterr().out.split()
    assert written == [str(default_prompt_path("flux", d, root=tmp_path / "prompts")) for d in ("blur", "haze")]
    path = default_prompt_path("flux", "haze", root=tmp_path / "prompts")
    assert read_sidecar(path)["source"] == "official release flux_haze.pt" and read_sidecar(path)["arch"] == "flux"
    raw = torch.load(src / "flux_haze.pt", map_location="cpu", weights_only=True)
    loaded = load_prompt(path, flux_dev)
    assert torch.equal(loaded.prompt.detach(), raw["deep_prompt_bank"]["prompts"].float())
    # gate i is the release's i-th wrapper: the 19 double-stream blocks, then the 38 single-stream blocks
    assert loaded.gates.detach().tolist() == [float(a) for a in raw["alphas"]]


@pytest.mark.parametrize("shape,message", [
    ({"n_gates": 56}, r"gates: file \(56,\) vs model \(57,\)"),
    ({"n_gates": 19 + 38 + 1}, r"gates: file \(58,\) vs model \(57,\)"),
    ({"dim": 3071}, r"prompt: file \(1, 512, 3071\) vs model \(1, 512, 3072\)"),
])
def test_official_flux_prompt_of_another_shape_is_refused_naming_both(shape, message, tmp_path, flux_dev, capsys):
    from ypt.prompts.__main__ import main

    path = _flux_dev_file(tmp_path / "flux_haze.pt", **shape)
    with pytest.raises(PromptShapeError, match=message):
        load_official(path, flux_dev)
    assert main(["show", str(path)]) == PromptShapeError.exit_code
    assert re.search(message, capsys.readouterr().err)
    assert main(["import-official", "--src", str(tmp_path), "--root", str(tmp_path / "prompts")]) == \
        PromptShapeError.exit_code
    assert not (tmp_path / "prompts").exists()


def test_official_prompt_of_the_other_backbone_is_refused(tmp_path, flux_dev):
    wan_file = write_official_checkpoint(tmp_path / "wan_haze.pt", "wan", 226, 1536, 30)
    with pytest.raises(PromptShapeError, match="is a WAN prompt; it cannot attach to a flux transformer"):
        load_official(wan_file, flux_dev)


def test_official_flux_structure_scaled_down_restores_on_a_tiny_flux(tmp_path, flux):
    """The same file structure at a tiny FLUX's shapes loads through load_prompt (the .pt path) and restores."""
    from ypt.restore import Restorer

    path = write_official_checkpoint(tmp_path / "flux_haze.pt", "flux", TEXT_LEN, flux.prompt_width, flux.num_gates)
    prompt = load_prompt(path, flux)
    assert prompt.gates.shape == (flux.num_gates,) and prompt.meta["source"] == "official release: flux_haze.pt"
    image = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(2))
    restorer = Restorer(flux, [prompt], image_size=(32, 32), num_inference_steps=3)
    restored = restorer.restore_images([image])[0]
    assert restored.shape == (3, 32, 32) and torch.isfinite(restored).all()
    with torch.no_grad():
        prompt.gates.zero_()  # the gates carry the prompt: closed, the restoration is the unprompted one
    assert (restored - restorer.restore_images([image])[0]).abs().max() > 1e-4


def test_backbone_refuses_a_second_prompt_while_one_is_attached(wan):
    """The adapter keeps one prompt attached (training holds it through the backward); the same prompt again is a
    no-op, another one is refused by ypt.prompts' own guard."""
    first, second = (make_prompt("residual", wan, TEXT_LEN) for _ in range(2))
    with wan.attached(first):
        with wan.attached(first):
            pass
        with pytest.raises(RuntimeError, match="already attached"), wan.attached(second):
            pass
