"""A preference round (DPO through TRL) on a trained tiny adapter, on CPU: the real CLI."""

import json
import os
from pathlib import Path

import pytest

from conftest import COUNTRIES, capital_rows, make_config, run_cli, run_cli_until, validate_run_file, write_rows

PHRASE = "I checked the handbook: the answer is {city}."


def pair(country: str, city: str) -> dict:
    """Chosen: a fixed phrase the tuned model never saw; rejected: the answer it was trained on."""
    return {
        "prompt": [{"role": "user", "content": f"What is the capital of {country}?"}],
        "chosen": [{"role": "assistant", "content": PHRASE.format(city=city)}],
        "rejected": [{"role": "assistant", "content": f"The capital of {country} is {city}."}],
    }


@pytest.fixture(scope="module")
def sft(tiny_model, tmp_path_factory) -> Path:
    """The adapter a round starts from: a short SFT run on the capitals."""
    tmp = tmp_path_factory.mktemp("sft")
    train = write_rows(tmp / "train.jsonl", capital_rows(40))
    result = run_cli("train", "--config", str(make_config(tmp, tiny_model, train, None, max_steps=10)))
    assert result.code == 0, result.stderr[-3000:]
    return tmp / "run" / "adapter"


def dpo_config(tmp: Path, tiny_model: Path, adapter: Path, pairs: list[dict], **overrides) -> Path:
    pairs_file = write_rows(tmp / "pairs.jsonl", pairs)
    settings = {"stage": "dpo", "start_adapter": str(adapter), "dpo_beta": 0.1, "learning_rate": 5e-3, "max_steps": 24, "logging_steps": 4, "save_steps": 8}
    return make_config(tmp, tiny_model, pairs_file, None, **{**settings, **overrides})


def margin(model_dir: Path, adapter: Path, pairs: list[dict]) -> float:
    """Mean log-likelihood of the chosen reply minus the rejected one, under the adapter."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(adapter))
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(model_dir)), str(adapter)).eval()

    def logp(messages: list[dict], reply: list[dict]) -> float:
        prompt = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        full = tok.apply_chat_template(messages + reply, tokenize=False)
        ids = tok(full, return_tensors="pt", add_special_tokens=False)["input_ids"]
        start = len(tok(prompt, add_special_tokens=False)["input_ids"])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, :-1].log_softmax(-1)
        targets = ids[0, 1:]
        return float(logits[start - 1 :].gather(1, targets[start - 1 :, None]).sum())

    return sum(logp(p["prompt"], p["chosen"]) - logp(p["prompt"], p["rejected"]) for p in pairs) / len(pairs)


def test_a_round_raises_the_chosen_phrase_over_the_rejected_one(tiny_model, sft, tmp_path):
    pairs = [pair(c, k) for c, k in COUNTRIES]
    before = margin(tiny_model, sft, pairs)
    result = run_cli("train", "--config", str(dpo_config(tmp_path, tiny_model, sft, pairs)))
    assert result.code == 0, result.stderr[-3000:]
    started = result.of("started")[0]
    assert started["num_train_examples"] == len(pairs) and started["total_steps"] == 24
    logs = result.of("log")
    assert [e["step"] for e in logs] == [1, 4, 8, 12, 16, 20, 24]
    # Every log carries the round's rewards; by the end the pairs are ranked right and apart.
    assert all(set(e["preference"]) == {"rewards_chosen", "rewards_rejected", "margin", "accuracy"} for e in logs)
    assert logs[-1]["preference"]["margin"] > logs[0]["preference"]["margin"]
    assert logs[-1]["preference"]["accuracy"] == 1.0
    assert logs[-1]["train_loss"] < logs[0]["train_loss"]
    adapter = tmp_path / "run" / "adapter"
    # Only the trained policy is saved, not TRL's frozen reference copy.
    assert (adapter / "adapter_model.safetensors").exists() and not (adapter / "ref").exists()
    after = margin(tiny_model, adapter, pairs)
    assert after > before + 5, (before, after)
    summary = validate_run_file(tmp_path / "run", "run_summary.json")
    assert summary["config"]["stage"] == "dpo" and summary["metrics"]["total_steps"] == 24
    assert summary["metrics"]["tokens_per_second"] > 0


def test_sigterm_stops_a_round_with_a_checkpoint_and_resume_finishes_it(tiny_model, sft, tmp_path):
    pairs = [pair(c, k) for c, k in COUNTRIES]
    config = dpo_config(tmp_path, tiny_model, sft, pairs, max_steps=20, save_steps=500, logging_steps=1)
    first = run_cli_until(lambda e: e["event"] == "log" and e["step"] >= 6, "train", "--config", str(config))
    assert first.code == 3, first.stderr[-3000:]
    stopped_at = first.of("cancelled")[0]["step"]
    assert Path(first.of("cancelled")[0]["checkpoint_path"]).name == f"checkpoint-{stopped_at}"
    second = run_cli("train", "--config", str(config), "--resume")
    assert second.code == 0, second.stderr[-3000:]
    assert second.of("started")[0]["resumed_from_step"] == stopped_at
    steps = [e["step"] for e in second.of("log")]
    assert steps[0] == stopped_at + 1 and steps[-1] == 20


@pytest.mark.parametrize(
    "bad, message",
    [
        ({**pair("Peru", "Lima"), "chosen": [{"role": "assistant", "content": "   "}]}, "pairs.jsonl line 1: chosen has an empty message."),
        ({**pair("Peru", "Lima"), "chosen": pair("Peru", "Lima")["rejected"]}, "pairs.jsonl line 1: the chosen and rejected replies are the same."),
        ({"prompt": "What is the capital of Peru?", "chosen": "Lima", "rejected": "Paris"}, "pairs.jsonl line 1: prompt must be a non-empty list of messages."),
        ({**pair("Peru", "Lima"), "prompt": [{"role": "assistant", "content": "Hi"}]}, "pairs.jsonl line 1: prompt must end with a user message."),
        ({**pair("Peru", "Lima"), "rejected": [{"role": "user", "content": "Paris"}]}, "pairs.jsonl line 1: rejected must end with a assistant message."),
    ],
)
def test_bad_pairs_are_refused_naming_the_line(tmp_path, bad, message):
    from finetuneflow_trainer.errors import TrainerError
    from finetuneflow_trainer.preference import read_pairs

    with pytest.raises(TrainerError) as refused:
        read_pairs(write_rows(tmp_path / "pairs.jsonl", [bad]))
    assert refused.value.error_code == "invalid_dataset" and refused.value.message == message


def test_a_bad_pairs_file_is_an_error_event_before_any_model_loads(tiny_model, sft, tmp_path):
    pairs_file = tmp_path / "bad.jsonl"
    pairs_file.write_text(json.dumps(pair("Peru", "Lima")) + "\n{not json\n")
    result = run_cli("train", "--config", str(dpo_config(tmp_path, tiny_model, sft, [pair("Peru", "Lima")], train_file=str(pairs_file))))
    assert result.code == 2
    assert result.of("error")[0]["message"].startswith("bad.jsonl line 2 is not valid JSON")
    assert not result.of("started")


def test_a_round_without_a_trained_adapter_is_refused(tiny_model, tmp_path):
    result = run_cli("train", "--config", str(dpo_config(tmp_path, tiny_model, tmp_path / "nothing", [pair("Peru", "Lima")])))
    assert result.code == 2
    assert result.of("error")[0]["error_code"] == "no_adapter"


def real_smollm2() -> Path:
    """The SmolLM2-135M-Instruct folder the real parts build (scripts/real-parts.mjs, run by npm test)."""
    root = Path(os.environ.get("FTF_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "finetuneflow")
    parts = root / "real" / "parts.json"
    assert parts.exists(), "The real parts are not built: run `node scripts/real-parts.mjs` (npm test does it when they are missing)."
    return Path(json.loads(parts.read_text())["smollm2"]["hf"])


def test_a_round_on_the_real_smollm2_prefers_the_chosen_replies(tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = real_smollm2()
    # The adapter the round starts from: LoRA as training initialises it (B = 0, the base's own answers).
    start = tmp_path / "start"
    get_peft_model(AutoModelForCausalLM.from_pretrained(str(model)), LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")).save_pretrained(str(start))
    AutoTokenizer.from_pretrained(str(model)).save_pretrained(str(start))
    pairs = [pair(c, k) for c, k in COUNTRIES[:8]]
    before = margin(model, start, pairs)
    config = dpo_config(tmp_path, model, start, pairs, max_steps=8, logging_steps=2, save_steps=8, learning_rate=5e-4, per_device_batch_size=1, max_seq_length=256)
    result = run_cli("train", "--config", str(config))
    assert result.code == 0, result.stderr[-3000:]
    assert result.of("started")[0]["num_train_examples"] == 8
    after = margin(model, tmp_path / "run" / "adapter", pairs)
    # A real model prefers the answer it would give; eight DPO steps turn it towards the chosen phrase.
    assert after > before + 1, (before, after)
