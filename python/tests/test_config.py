import json

import pytest

from finetuneflow_trainer.config import load_config, parse_config
from finetuneflow_trainer.errors import TrainerError

BASE = {"base_model": "/m", "output_dir": "/o", "train_file": "/t.jsonl"}


def test_applies_the_spec_defaults():
    cfg = parse_config(BASE)
    assert (cfg.method, cfg.num_epochs, cfg.learning_rate, cfg.per_device_batch_size) == ("lora", 3.0, 2e-4, 4)
    assert (cfg.gradient_accumulation_steps, cfg.max_seq_length, cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout) == (4, 2048, 16, 32, 0.05)


def test_lists_every_bad_field_at_once():
    with pytest.raises(TrainerError) as e:
        parse_config({**BASE, "method": "full", "learning_rate": 5, "lora_r": 0, "per_device_batch_size": 2.5, "typo": 1})
    msg = e.value.message
    assert e.value.error_code == "invalid_config"
    for part in ("method", "learning_rate", "lora_r", "per_device_batch_size: must be a whole number", "unknown field(s): typo"):
        assert part in msg


def test_requires_paths_and_refuses_booleans_as_numbers():
    with pytest.raises(TrainerError) as e:
        parse_config({"base_model": "", "num_epochs": True})
    assert "base_model: required" in e.value.message
    assert "output_dir: required" in e.value.message
    assert "num_epochs: must be a number" in e.value.message


def test_a_config_file_that_is_not_json_says_where(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"base_model": "x",\n oops}')
    with pytest.raises(TrainerError) as e:
        load_config(p)
    assert "line 2" in e.value.message


def test_a_config_that_is_not_an_object_is_refused(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps([1, 2]))
    with pytest.raises(TrainerError):
        load_config(p)


def test_chat_template_kwargs_are_switches_and_nothing_else():
    assert parse_config({**BASE, "chat_template_kwargs": {"enable_thinking": False}}).chat_template_kwargs == {"enable_thinking": False}
    assert parse_config(BASE).chat_template_kwargs == {}
    for bad in ([1], {"x": {"nested": 1}}, "enable_thinking"):
        with pytest.raises(TrainerError) as e:
            parse_config({**BASE, "chat_template_kwargs": bad})
        assert "chat_template_kwargs" in e.value.message


# run.json has one definition: the app's zod schema, emitted as run-config.schema.json.
def test_the_dataclass_has_exactly_the_schema_fields_and_takes_its_defaults():
    from dataclasses import fields

    from finetuneflow_trainer.config import SCHEMA, TrainConfig

    assert [f.name for f in fields(TrainConfig)] == list(SCHEMA["properties"])
    cfg = parse_config(BASE)
    for name, prop in SCHEMA["properties"].items():
        if "default" in prop:
            assert getattr(cfg, name) == prop["default"], name


def test_defaults_are_not_shared_between_configs():
    a = parse_config(BASE)
    a.chat_template_kwargs["enable_thinking"] = False
    assert parse_config(BASE).chat_template_kwargs == {}


CASES = [
    BASE,
    {**BASE, "eval_file": None, "eval_steps": None, "num_processes": 2, "target_modules": ["q_proj", "v_proj"]},
    {**BASE, "num_epochs": 1, "max_steps": 8, "learning_rate": 0.0003, "chat_template_kwargs": {"enable_thinking": False, "x": 1, "y": "z"}},
    {**BASE, "lora_r": 0},
    {**BASE, "lora_r": 2.5},
    {**BASE, "lora_dropout": 0.95},
    {**BASE, "method": "full"},
    {**BASE, "target_modules": []},
    {**BASE, "target_modules": "all"},
    {**BASE, "target_modules": [1]},
    {**BASE, "eval_steps": 0},
    {**BASE, "num_processes": 65},
    {**BASE, "packing": "yes"},
    {**BASE, "system_prompt": 3},
    {**BASE, "seed": -1},
    {**BASE, "chat_template_kwargs": {"x": [1]}},
    {**BASE, "typo": 1},
    {**BASE, "num_epochs": True},
]


@pytest.mark.parametrize("raw", CASES, ids=[str(i) for i in range(len(CASES))])
def test_the_checks_agree_with_json_schema_itself(raw):
    """config.py reads the schema with its own small checker (no runtime dependency): it must
    accept and refuse exactly what a full JSON Schema validator does."""
    import jsonschema

    from finetuneflow_trainer.config import SCHEMA

    schema_ok = jsonschema.Draft202012Validator(SCHEMA).is_valid(raw)
    try:
        parse_config(raw)
        ours_ok = True
    except TrainerError:
        ours_ok = False
    assert ours_ok == schema_ok
