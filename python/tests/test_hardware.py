import pytest
import torch

from conftest import run_cli
from finetuneflow_trainer.hardware import recommend


def test_hardware_reports_this_machine_as_one_schema_valid_object():
    result = run_cli("hardware", "--params", "5e6")
    assert result.code == 0, result.stderr[-2000:]
    assert len(result.events) == 1
    info = result.events[0]
    assert info["event"] == "hardware"
    assert info["cuda_available"] == torch.cuda.is_available()
    assert info["torch_version"] == torch.__version__
    if not info["cuda_available"]:
        assert info["bnb_available"] is False
        assert info["recommended_method"] == "lora"
        assert any("very slow" in w for w in info["warnings"])


GPU = {"cuda_available": True, "gpu_count": 1, "bnb_available": True, "bnb_error": None}


def test_recommends_lora_when_16bit_fits():
    method, reason, _ = recommend({**GPU, "vram_free_gb": 40.0}, 8e9, 18.0, 7.0)
    assert method == "lora" and "18 GB" in reason


def test_recommends_qlora_when_only_4bit_fits():
    method, reason, _ = recommend({**GPU, "vram_free_gb": 12.0}, 8e9, 18.0, 7.0)
    assert method == "qlora"
    assert "needs ~18 GB" in reason and "12 GB are free" in reason


def test_recommends_nothing_when_neither_fits_or_bnb_is_broken():
    assert recommend({**GPU, "vram_free_gb": 4.0}, 8e9, 18.0, 7.0)[0] is None
    method, _, warnings = recommend({**GPU, "vram_free_gb": 12.0, "bnb_available": False, "bnb_error": "no kernels"}, 8e9, 18.0, 7.0)
    assert method is None and "no kernels" in warnings


def test_cpu_only_refuses_big_models():
    method, reason, _ = recommend({"cuda_available": False, "gpu_count": 0}, 8e9, None, None)
    assert method is None and "without a GPU" in reason


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU: the bitsandbytes 4-bit probe runs on the GPU")
def test_bnb_probe_runs_a_real_4bit_layer_on_the_gpu():
    info = run_cli("hardware").events[0]
    assert info["bnb_available"] is True, info["bnb_error"]
