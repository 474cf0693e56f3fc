"""The merged model's config.json carries the legacy RoPE keys older converters read."""

import json

from finetuneflow_trainer.merged_config import add_legacy_rope_keys, legacy_rope_keys


def test_a_plain_rope_gets_its_theta_at_the_top_level():
    assert legacy_rope_keys({"rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}}) == {"rope_theta": 100000.0}


def test_a_scaled_rope_gets_rope_scaling_in_both_spellings_of_its_type():
    params = {"rope_theta": 500000.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    legacy = legacy_rope_keys({"rope_parameters": params})
    assert legacy["rope_theta"] == 500000.0
    assert legacy["rope_scaling"] == {"rope_type": "llama3", "type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


def test_one_rope_per_attention_kind_gives_the_global_theta_and_the_local_base():
    params = {"full_attention": {"rope_theta": 1000000.0, "rope_type": "default"}, "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}
    assert legacy_rope_keys({"rope_parameters": params}) == {"rope_theta": 1000000.0, "rope_local_base_freq": 10000.0}


def test_keys_already_there_are_kept_and_configs_without_rope_parameters_are_left_alone():
    assert legacy_rope_keys({"rope_theta": 5.0, "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}}) == {}
    assert legacy_rope_keys({"rope_theta": 10000.0}) == {}
    assert legacy_rope_keys({"rope_parameters": "nonsense"}) == {}


def test_the_file_is_rewritten_with_everything_it_had(tmp_path):
    config = {"model_type": "llama", "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"}, "vocab_size": 7}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert add_legacy_rope_keys(tmp_path) == {"rope_theta": 100000.0}
    assert json.loads((tmp_path / "config.json").read_text()) == {**config, "rope_theta": 100000.0}
    assert add_legacy_rope_keys(tmp_path) == {}
