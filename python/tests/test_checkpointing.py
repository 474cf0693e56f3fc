"""Selective activation checkpointing: the first k decoder layers recompute in backward, the
others keep their activations, and the gradients are the same whatever k is."""

import json

import pytest
import torch

from conftest import make_config, run_cli
from finetuneflow_trainer import checkpointing


def test_the_count_follows_the_mode():
    assert checkpointing.layers_to_checkpoint("none", 5, 32, cuda=True) == 0
    assert checkpointing.layers_to_checkpoint("all", None, 32, cuda=False) == 32
    assert checkpointing.layers_to_checkpoint("auto", 12, 32, cuda=True) == 12
    assert checkpointing.layers_to_checkpoint("auto", 99, 32, cuda=True) == 32
    # auto without the app's count: every layer on a GPU, none on a CPU (memory is not what a CPU run lacks).
    assert checkpointing.layers_to_checkpoint("auto", None, 32, cuda=True) == 32
    assert checkpointing.layers_to_checkpoint("auto", None, 32, cuda=False) == 0


def _model(path):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    model.config.use_cache = False
    model.train()
    return model


@pytest.mark.parametrize("k", [0, 1, 2])
def test_k_layers_recompute_and_the_gradients_do_not_change(tiny_model, k):
    reference = _model(tiny_model)
    model = _model(tiny_model)
    assert checkpointing.apply(model, k) == k
    layers = checkpointing.decoder_layers(model)
    assert len(layers) == 2
    assert [layer.gradient_checkpointing for layer in layers] == [i < k for i in range(2)]
    calls = [0] * len(layers)
    # transformers checkpoints a layer's forward, so hooks on the layer itself run once: count its MLP's calls.
    for i, layer in enumerate(layers):
        layer.mlp.register_forward_pre_hook(lambda _m, _a, i=i: calls.__setitem__(i, calls[i] + 1))
    ids = torch.arange(5, 37).unsqueeze(0)
    for m in (reference, model):
        m(input_ids=ids, labels=ids).loss.backward()
    # A checkpointed layer runs its forward twice (once more in backward); the others once.
    assert calls == [2 if i < k else 1 for i in range(2)]
    for (name, a), (_, b) in zip(reference.named_parameters(), model.named_parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-6), name


def test_a_run_says_how_many_layers_it_checkpointed(tiny_model, dataset, tmp_path):
    train, _ = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, None, max_steps=2, checkpointing="auto", checkpoint_layers=1)))
    assert result.code == 0, result.stderr[-2000:]
    started = result.of("started")[0]
    assert (started["checkpointed_layers"], started["decoder_layers"]) == (1, 2)
    summary = json.loads((tmp_path / "run" / "run_summary.json").read_text())
    assert (summary["metrics"]["checkpointed_layers"], summary["config"]["checkpointing"]) == (1, "auto")


def test_a_config_from_before_checkpointing_modes_still_reads():
    from finetuneflow_trainer.config import parse_config

    base = {"base_model": "/m", "output_dir": "/o", "train_file": "/t.jsonl"}
    assert parse_config({**base, "gradient_checkpointing": True}).checkpointing == "all"
    assert parse_config({**base, "gradient_checkpointing": False}).checkpointing == "none"
    assert parse_config(base).checkpointing == "auto"


def test_dataloader_workers_train(tiny_model, dataset, tmp_path):
    """An option the GPU benchmark measures on and off (issue 34) runs on a CPU too."""
    train, _ = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, None, max_steps=2, dataloader_workers=2)))
    assert result.code == 0, result.stderr[-2000:]
    assert result.of("complete")[0]["metrics"]["total_steps"] == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; run on a GPU machine (compiling on a CPU costs the suite two minutes: it passed there when written)")
def test_regional_compile_trains_on_the_gpu(tiny_model, dataset, tmp_path):
    """torch.compile of each decoder layer (issue 34), measured on and off by the GPU benchmark."""
    train, _ = dataset
    result = run_cli("train", "--config", str(make_config(tmp_path, tiny_model, train, None, max_steps=2, compile="layers")))
    assert result.code == 0, result.stderr[-2000:]
    assert "compiled 2 decoder layers" in result.stderr
    assert result.of("complete")[0]["metrics"]["total_steps"] == 2
