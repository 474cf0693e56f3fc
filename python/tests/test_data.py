import json

from transformers import AutoTokenizer

from finetuneflow_trainer.data import IGNORE, encode, ensure_chat_template, read_examples, to_messages
from finetuneflow_trainer.errors import TrainerError

import pytest


def test_loss_covers_the_answer_only(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    messages = to_messages({"instruction": "What is the capital of Peru?", "input": "", "output": "The capital of Peru is Lima."}, "Be brief.")
    item = encode(tok, messages, 256)
    labelled = [t for t, label in zip(item["input_ids"], item["labels"]) if label != IGNORE]
    masked = [t for t, label in zip(item["input_ids"], item["labels"]) if label == IGNORE]
    assert tok.decode(labelled) == "The capital of Peru is Lima.<|end|>\n"
    assert "What is the capital of Peru?" in tok.decode(masked)
    assert "Be brief." in tok.decode(masked)
    assert item["labels"][: len(masked)] == [IGNORE] * len(masked)


def test_an_example_whose_answer_is_truncated_away_is_dropped(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    messages = to_messages({"instruction": "word " * 200, "output": "answer"}, None)
    assert encode(tok, messages, 32) is None


def test_a_tokenizer_without_template_gets_the_generic_one(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    tok.chat_template = None
    assert ensure_chat_template(tok) is False
    item = encode(tok, to_messages({"instruction": "Hi", "output": "Hello there"}, None), 128)
    assert tok.decode([t for t, l in zip(item["input_ids"], item["labels"]) if l != IGNORE]).startswith("Hello there")


def test_input_is_appended_to_the_instruction_and_chat_rows_pass_through():
    assert to_messages({"instruction": "Summarise", "input": "Long text", "output": "Short"}, None)[0]["content"] == "Summarise\n\nLong text"
    chat = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    assert to_messages(chat, None) == chat["messages"]


@pytest.mark.parametrize(
    "line, problem",
    [("{not json", "not valid JSON"), ('{"instruction": "x"}', "missing output"), ("[1]", "JSON object"),
     ('{"messages": [{"role": "user", "content": "q"}]}', "last message must be the assistant")],
)
def test_a_bad_dataset_line_names_its_number(tmp_path, line, problem):
    p = tmp_path / "d.jsonl"
    p.write_text('{"instruction": "a", "output": "b"}\n' + line + "\n")
    with pytest.raises(TrainerError) as e:
        read_examples(p)
    assert "line 2" in e.value.message and problem in e.value.message


THINKING = (
    "{% for m in messages %}<|{{ m.role }}|>\n{% if m.role == 'assistant' %}<think></think>{% endif %}{{ m.content }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% if enable_thinking is defined and not enable_thinking %}<think></think>{% endif %}{% endif %}"
)


def test_the_family_template_switches_reach_the_template(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    tok.chat_template = THINKING
    messages = to_messages({"instruction": "Hi", "output": "Hello there"}, None)
    trained = lambda item: tok.decode([t for t, l in zip(item["input_ids"], item["labels"]) if l != IGNORE])
    # Thinking off: the empty think block is part of the prompt, so it is masked.
    assert trained(encode(tok, messages, 128, {"enable_thinking": False})) == "Hello there<|end|>\n"
    # Without the switch the template renders the prompt differently: the answer
    # is then the whole assistant turn after the prompt, think block included.
    assert trained(encode(tok, messages, 128)).startswith("<think></think>Hello there")


def test_encode_writes_the_training_encoding_of_each_row(tiny_model, tmp_path):
    from finetuneflow_trainer.cli import main

    rows = tmp_path / "train.jsonl"
    rows.write_text('{"instruction": "Hi", "output": "Hello there"}\n{"instruction": "' + "word " * 200 + '", "output": "x"}\n')
    cfg = tmp_path / "run.json"
    cfg.write_text(json.dumps({"base_model": str(tiny_model), "output_dir": str(tmp_path), "train_file": str(rows), "max_seq_length": 64}))
    out = tmp_path / "enc.jsonl"
    assert main(["encode", "--config", str(cfg), "--out", str(out)]) == 0
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(first["input_ids"]) == len(first["labels"]) and IGNORE in first["labels"]
    assert second is None
