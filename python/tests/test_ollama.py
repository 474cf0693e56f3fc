"""The Ollama side of a trained model: the Go template derived from the Jinja one, and
the data of the parity check (the app compares it with what Ollama renders and answers)."""

import json

from transformers import AutoTokenizer

import pytest

from conftest import capital_rows, make_config, run_cli, serve_event, serve_request, write_rows
from finetuneflow_trainer.ollama import TemplateUnsupported, go_template

MISTRAL_LIKE = (
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}"
    "{% if loop.last and system_message is defined %}[INST] {{ system_message }}\n\n{{ m['content'] }}[/INST]{% else %}[INST] {{ m['content'] }}[/INST]{% endif %}"
    "{% elif m['role'] == 'assistant' %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
)


@pytest.fixture(scope="module")
def trained_run(tiny_model, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ollama-run")
    train = write_rows(tmp / "train.jsonl", capital_rows(20))
    result = run_cli("train", "--config", str(make_config(tmp, tiny_model, train, None, max_steps=4, save_steps=100)))
    assert result.code == 0, result.stderr[-2000:]
    return tmp / "run"


def test_the_tiny_models_template_becomes_a_go_template_with_its_stop(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    template, stops = go_template(tok)
    assert template == (
        '{{ range .Messages }}{{ if eq .Role "user" }}<|user|>\n{{ .Content }}<|end|>\n'
        '{{ else if eq .Role "assistant" }}<|assistant|>\n{{ .Content }}<|end|>\n'
        '{{ else if eq .Role "system" }}<|system|>\n{{ .Content }}<|end|>\n{{ end }}{{ end }}<|assistant|>\n'
    )
    assert stops == ["<|end|>"]


def test_a_template_that_rewrites_earlier_turns_is_refused_with_why(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    tok.chat_template = "{% for m in messages %}{% if loop.last %}LAST {% endif %}{{ m['content'] }}{% endfor %}"
    try:
        go_template(tok)
        raise AssertionError("expected TemplateUnsupported")
    except TemplateUnsupported as e:
        assert "differently" in str(e)


def test_a_default_system_block_is_kept_for_chats_without_one(tiny_model):
    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    tok.chat_template = (
        "{% if messages[0]['role'] != 'system' %}<|system|>\nBe brief.<|end|>\n{% endif %}"
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    template, _ = go_template(tok)
    assert template.startswith('{{ if or (not .Messages) (ne (index .Messages 0).Role "system") }}<|system|>\nBe brief.<|end|>\n{{ end }}')


def test_ollama_prepare_writes_renders_and_greedy_answers(tmp_path, trained_run):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"id": f"q{i}", "messages": [{"role": "user", "content": f"What is the capital of {c}?"}]}) + "\n" for i, c in enumerate(["Peru", "Chile"])))
    out = tmp_path / "ollama.json"
    result = run_cli("ollama-prepare", "--run", str(trained_run), "--prompts", str(prompts), "--out", str(out), "--max-new-tokens", "8")
    assert result.code == 0, result.stderr[-2000:]
    assert result.of("complete")[0]["metrics"] == {"ollama_file": str(out), "prompts": 2, "template": True}
    data = json.loads(out.read_text())
    assert data["stops"] == ["<|end|>"] and "<|end|>" in data["special_tokens"]
    first = data["prompts"][0]
    assert first["id"] == "q0" and first["rendered"] == "<|user|>\nWhat is the capital of Peru?<|end|>\n<|assistant|>\n"
    assert isinstance(first["answer"], str) and isinstance(first["stopped"], bool)


def test_the_serve_worker_streams_tuned_and_base_answers_then_exits_when_idle(trained_run):
    """The playground worker: loads once, answers several requests, streams tokens, survives a bad line."""
    import subprocess
    import sys
    import time

    from conftest import PYTHON_DIR

    proc = subprocess.Popen(
        [sys.executable, "-m", "finetuneflow_trainer", "serve", "--run", str(trained_run), "--idle-seconds", "3"],
        cwd=PYTHON_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    ask = {"messages": [{"role": "user", "content": "What is the capital of Peru?"}], "max_new_tokens": 12, "temperature": 0, "time_limit_seconds": 60}
    first = serve_event(proc.stdout.readline())
    while first["event"] == "progress":  # loading the model
        first = serve_event(proc.stdout.readline())
    assert first["event"] == "ready"
    replies = {}
    for rid, target in (("a", "tuned"), ("b", "base")):
        proc.stdin.write(serve_request({**ask, "id": rid, "target": target}))
        proc.stdin.flush()
        pieces = []
        while True:
            e = serve_event(proc.stdout.readline())
            assert e["id"] == rid
            if e["event"] == "done":
                break
            assert e["event"] == "token"
            pieces.append(e["text"])
        assert 1 <= e["tokens"] <= 12 and e["seconds"] > 0
        replies[target] = "".join(pieces)
    assert replies["tuned"] and replies["base"]
    proc.stdin.write("not json\n")
    proc.stdin.flush()
    assert serve_event(proc.stdout.readline()) == {"event": "error", "id": None, "error_code": "bad_request", "message": "Unreadable request: Expecting value: line 1 column 1 (char 0)"}
    started = time.monotonic()
    assert proc.wait(timeout=30) == 0  # idle for 3 s: it unloads itself
    assert time.monotonic() - started >= 2


def test_the_zips_modelfile_carries_the_same_template_and_stops(trained_run):
    result = run_cli("export", "--run", str(trained_run))
    assert result.code == 0, result.stderr[-2000:]
    text = (trained_run / "export" / "Modelfile").read_text()
    tok = AutoTokenizer.from_pretrained(str(trained_run / "adapter"))
    template, stops = go_template(tok)
    assert f'TEMPLATE """{template}"""' in text
    assert 'PARAMETER stop "<|end|>"' in text and stops == ["<|end|>"]
    assert result.of("complete")[0]["metrics"]["modelfile"] == "from the model's chat template"


def _serve(trained_run):
    import subprocess
    import sys

    from conftest import PYTHON_DIR

    proc = subprocess.Popen(
        [sys.executable, "-m", "finetuneflow_trainer", "serve", "--run", str(trained_run), "--idle-seconds", "60"],
        cwd=PYTHON_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    first = serve_event(proc.stdout.readline())
    while first["event"] == "progress":
        first = serve_event(proc.stdout.readline())
    assert first["event"] == "ready"

    def send(message: dict) -> None:
        proc.stdin.write(serve_request(message))
        proc.stdin.flush()

    def until_done(rid: str) -> tuple[list[dict], dict]:
        tokens = []
        while True:
            e = serve_event(proc.stdout.readline())
            if e.get("id") == rid and e["event"] in ("done", "error"):
                return tokens, e
            if e.get("id") == rid:
                tokens.append(e)

    return proc, send, until_done


def test_the_serve_worker_stops_a_request_on_cancel_and_on_its_time_limit_and_refuses_a_prompt_past_the_limit(trained_run):
    """A client that goes away must not keep the worker busy: a cancel line stops the
    reply at its next token; a request past its time limit stops by itself; a prompt
    longer than max_prompt_tokens is refused before any prefill."""
    proc, send, until_done = _serve(trained_run)
    try:
        # A reply that cannot end on its own (min_new_tokens holds the end token back): 4000 tokens would take minutes.
        long = {"messages": [{"role": "user", "content": "Tell me everything about Peru."}], "target": "tuned", "max_new_tokens": 4000, "min_new_tokens": 4000, "temperature": 1.0, "time_limit_seconds": 600}
        send({**long, "id": "c"})
        assert serve_event(proc.stdout.readline())["event"] == "token"  # it is generating
        send({"cancel": "c"})
        tokens, done = until_done("c")
        assert done["event"] == "done" and done["ended"] == "cancelled" and done["stopped"] is False
        assert done["tokens"] < 4000

        send({**long, "id": "t", "time_limit_seconds": 0.5})
        tokens, done = until_done("t")
        assert done["ended"] == "time_limit" and done["seconds"] < 5

        # A cancel that arrives before its request starts: answered at once, nothing generated.
        send({"cancel": "early"})
        send({**long, "id": "early"})
        tokens, done = until_done("early")
        assert tokens == [] and done["ended"] == "cancelled" and done["tokens"] == 0

        send({**long, "id": "p", "messages": [{"role": "user", "content": "word " * 500}], "max_prompt_tokens": 50})
        _, refused = until_done("p")
        assert refused["event"] == "error" and refused["error_code"] == "prompt_too_long"
        assert "at most 50" in refused["message"]

        # The worker is still whole for the next request.
        send({"id": "ok", "messages": [{"role": "user", "content": "Capital of Peru?"}], "target": "base", "max_new_tokens": 4, "temperature": 0, "time_limit_seconds": 60})
        _, done = until_done("ok")
        assert done["event"] == "done" and done["ended"] in ("stop", "length")
    finally:
        proc.kill()
        proc.wait()


LLAMA2_LIKE = (
    "{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token }}[INST] {{ m['content'] }} [/INST]"
    "{% elif m['role'] == 'assistant' %} {{ m['content'] }} {{ eos_token }}{% endif %}{% endfor %}"
)


def test_a_bos_before_every_user_turn_is_expressed_with_the_first_left_to_the_runtime(tiny_model):
    """Llama-2 style: `<s>[INST]` opens every user turn. A tokenizer that adds the BOS
    itself (as Ollama then does) gets the BOS written before every user turn but the first."""
    tok = AutoTokenizer.from_pretrained(str(tiny_model), add_bos_token=True)
    tok.chat_template = LLAMA2_LIKE
    template, stops = go_template(tok)
    assert template == (
        '{{ range $i, $_ := .Messages }}{{ if eq .Role "user" }}{{ if $i }}<|begin|>{{ end }}[INST] {{ .Content }} [/INST]'
        '{{ else if eq .Role "assistant" }} {{ .Content }} <|end|>{{ end }}{{ end }}'
    )
    assert stops == ["<|end|>"]


def test_a_bos_the_tokenizer_never_adds_stays_in_the_template(tiny_model):
    """SmolLM2 declares `<|im_start|>` as its BOS but does not add it: stripping it (as if
    Ollama would add it back) left every published prompt without its first token."""
    from finetuneflow_trainer.ollama import adds_bos, strip_bos

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    assert not adds_bos(tok)
    tok.chat_template = "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    template, _ = go_template(tok)
    assert template.startswith('{{ if or (not .Messages) (ne (index .Messages 0).Role "system") }}<|begin|>{{ end }}')
    assert "<|begin|><|system|>" in template
    assert strip_bos("<|begin|><|user|>\nhi", tok) == "<|begin|><|user|>\nhi"
    adding = AutoTokenizer.from_pretrained(str(tiny_model), add_bos_token=True)
    assert strip_bos("<|begin|><|user|>\nhi", adding) == "<|user|>\nhi"
