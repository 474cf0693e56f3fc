"""The trained model as Ollama will run it: the chat template in Ollama's Go-template
form, taken from the model's own Jinja template, and the data of the parity check.

The Go template is not written per family by hand: the Jinja template is rendered on
sentinel conversations and cut into its pieces (what comes before and after each
role's content, the generation prompt, a default system block), which are then laid
out as a Go template. No trim markers ({{- -}}): they would also eat the newlines that
belong to the pieces. A template this cannot express (one that moves the system prompt
into the first user turn, say) renders differently, and the parity check says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import TrainerError
from .events import emit

SYS, U1, A1, U2 = "\u2060SYS\u2060", "\u2060USER1\u2060", "\u2060ASSISTANT1\u2060", "\u2060USER2\u2060"


class TemplateUnsupported(Exception):
    pass


def _render(tokenizer, messages: list[dict], generation: bool, kwargs: dict) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation, **kwargs)


def _between(text: str, start: str | None, end: str | None) -> str:
    a = text.index(start) + len(start) if start else 0
    b = text.index(end, a) if end else len(text)
    return text[a:b]


def _go(piece: str) -> str:
    if "{{" in piece or "}}" in piece:
        raise TemplateUnsupported("the chat template writes '{{' or '}}' literally")
    return piece


def adds_bos(tokenizer) -> bool:
    """Whether encoding text puts the BOS token in front (add_bos_token, or a post-processor
    that does). Ollama adds a BOS exactly when the model's tokenizer does (its converter
    reads the same settings, a GGUF carries them as tokenizer.ggml.add_bos_token), so only
    then may a template's leading BOS be left to it. SmolLM2 declares `<|im_start|>` as
    its BOS but never adds it: there the template must keep writing it."""
    bos_id = tokenizer.bos_token_id
    if bos_id is None:
        return False
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return bool(ids) and ids[0] == bos_id


def strip_bos(text: str, tokenizer) -> str:
    """The text Ollama must be given for `text`: without a leading BOS when Ollama adds one itself."""
    bos = tokenizer.bos_token
    return text[len(bos):] if bos and text.startswith(bos) and adds_bos(tokenizer) else text


def go_template(tokenizer, template_kwargs: dict | None = None) -> tuple[str, list[str]]:
    """(Ollama TEMPLATE, stop sequences) equivalent to the tokenizer's chat template."""
    kw = template_kwargs or {}
    user1 = [{"role": "user", "content": U1}]
    ua = user1 + [{"role": "assistant", "content": A1}]
    uau = ua + [{"role": "user", "content": U2}]
    try:
        r_u = _render(tokenizer, user1, False, kw)
        r_u_gen = _render(tokenizer, user1, True, kw)
        r_ua = _render(tokenizer, ua, False, kw)
        r_uau = _render(tokenizer, uau, True, kw)
    except Exception as e:  # noqa: BLE001 - a template that refuses our conversations cannot be translated
        raise TemplateUnsupported(f"the chat template failed on a plain conversation ({type(e).__name__}: {e})") from e
    if not (r_u_gen.startswith(r_u) and r_ua.startswith(r_u) and r_uau.startswith(r_ua)):
        raise TemplateUnsupported("the chat template renders earlier turns differently once later ones exist")
    generation = r_u_gen[len(r_u):]
    user_prefix = _between(r_uau[len(r_ua):], None, U2)
    user_suffix = r_uau[r_uau.index(U2) + len(U2): len(r_uau) - len(generation) if generation else None]
    assistant_prefix = _between(r_ua[len(r_u):], None, A1)
    assistant_suffix = r_ua[r_ua.index(A1) + len(A1):]
    head = strip_bos(r_u[: r_u.index(U1)], tokenizer)
    bos = tokenizer.bos_token or ""
    # Llama-2 style: every user turn opens with the BOS (`<s>[INST]`); the runtime adds the
    # first one itself, so the template writes it before every user turn but the first.
    bos_per_turn = bool(bos) and user_prefix.startswith(bos) and not head.endswith(user_prefix) and (bos + head).endswith(user_prefix) and adds_bos(tokenizer)
    if bos_per_turn:
        head = bos + head
    if not head.endswith(user_prefix):
        raise TemplateUnsupported("the first user turn is written differently from the others")
    default_head = head[: len(head) - len(user_prefix)]
    if bos_per_turn and default_head:
        raise TemplateUnsupported("the chat template writes a default block before a per-turn BOS")
    system_prefix = system_suffix = None
    try:
        r_su = strip_bos(_render(tokenizer, [{"role": "system", "content": SYS}] + user1, False, kw), tokenizer)
        if SYS in r_su and r_su.index(SYS) < r_su.index(U1):
            block = r_su[: r_su.index(U1)]
            if block.endswith(user_prefix):
                block = block[: len(block) - len(user_prefix)]
                system_prefix, system_suffix = block[: block.index(SYS)], block[block.index(SYS) + len(SYS):]
    except Exception:  # noqa: BLE001 - templates without a system role (Gemma) raise here
        pass

    parts = []
    if default_head:
        # The template writes its own default system block when the chat has none (Qwen).
        parts.append('{{ if or (not .Messages) (ne (index .Messages 0).Role "system") }}' + _go(default_head) + "{{ end }}")
    if bos_per_turn:
        parts.append("{{ range $i, $_ := .Messages }}")
        user_open = "{{ if $i }}" + _go(bos) + "{{ end }}" + _go(user_prefix[len(bos):])
    else:
        parts.append("{{ range .Messages }}")
        user_open = _go(user_prefix)
    branches = [f'{{{{ if eq .Role "user" }}}}{user_open}{{{{ .Content }}}}{_go(user_suffix)}']
    branches.append(f'{{{{ else if eq .Role "assistant" }}}}{_go(assistant_prefix)}{{{{ .Content }}}}{_go(assistant_suffix)}')
    if system_prefix is not None:
        branches.append(f'{{{{ else if eq .Role "system" }}}}{_go(system_prefix)}{{{{ .Content }}}}{_go(system_suffix or "")}')
    parts.append("".join(branches) + "{{ end }}")
    parts.append("{{ end }}" + _go(generation))
    return "".join(parts), stop_tokens(tokenizer, assistant_suffix)


def special_tokens(tokenizer) -> list[str]:
    found = set(tokenizer.all_special_tokens)
    for token in getattr(tokenizer, "added_tokens_decoder", {}).values():
        if getattr(token, "special", False):
            found.add(str(token))
    return sorted(t for t in found if t)


def stop_tokens(tokenizer, assistant_suffix: str) -> list[str]:
    """The special tokens that end an assistant turn, then EOS."""
    stops = [t for t in special_tokens(tokenizer) if t in assistant_suffix and t != tokenizer.pad_token]
    stops.sort(key=assistant_suffix.index)
    if tokenizer.eos_token and tokenizer.eos_token not in stops:
        stops.append(tokenizer.eos_token)
    return stops


# Logit gap under which the tuned model was itself undecided between its top two tokens:
# a runtime with other numerics (Ollama's float16 weights and KV cache) may pick either.
NEAR_TIE_LOGITS = 1.0


def reply_with_ties(model, tokenizer, messages: list[dict], max_new_tokens: int, template_kwargs: dict) -> tuple[str, bool, list[list[int]], int]:
    """The greedy reply (as evaluate's), whether it ended by itself, the character spans
    [start, end) of the reply's tokens chosen by a margin under NEAR_TIE_LOGITS, and how
    many tokens the reply took (a model undecided on most of them cannot be compared)."""
    import torch

    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **template_kwargs)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(
            **ids, max_new_tokens=max_new_tokens, do_sample=False, output_scores=True, return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        )
    new = out.sequences[0][ids["input_ids"].shape[1]:].tolist()
    stopped = len(new) < max_new_tokens or (len(new) > 0 and new[-1] == tokenizer.eos_token_id)
    full = tokenizer.decode(new, skip_special_tokens=True)
    lead = len(full) - len(full.lstrip())
    answer = full.strip()
    ties: list[list[int]] = []
    for i, scores in enumerate(out.scores[: len(new)]):
        top = torch.topk(scores[0].float(), 2).values
        if float(top[0] - top[1]) < NEAR_TIE_LOGITS:
            start = len(tokenizer.decode(new[:i], skip_special_tokens=True)) - lead
            end = len(tokenizer.decode(new[: i + 1], skip_special_tokens=True)) - lead
            if new[i] == tokenizer.eos_token_id:
                # Ending the reply was itself a near-tie: marked just past the answer.
                ties.append([len(answer), len(answer) + 1])
            elif end > max(0, start):
                ties.append([max(0, start), min(len(answer), end)])
    return answer, stopped, ties, len(new)


def prepare(run_dir: str, prompts_file: str, out_file: str, max_new_tokens: int = 64) -> int:
    """The template, the stops and, per held-out prompt, the Jinja rendering and the tuned
    model's greedy answer: what the app compares with the Ollama model."""
    from .evaluate import _load_tuned

    cfg, tokenizer, model, _adapter = _load_tuned(Path(run_dir))
    try:
        template, stops = go_template(tokenizer, cfg.chat_template_kwargs)
        unsupported = None
    except TemplateUnsupported as e:
        template, stops, unsupported = None, [tokenizer.eos_token] if tokenizer.eos_token else [], str(e)
    rows = [json.loads(line) for line in Path(prompts_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    prompts = []
    for i, row in enumerate(rows):
        emit("progress", progress_pct=10.0 + 85.0 * i / max(1, len(rows)), message=f"answering {i + 1}/{len(rows)} with the tuned model")
        rendered = strip_bos(_render(tokenizer, row["messages"], True, cfg.chat_template_kwargs), tokenizer)
        answer, stopped, ties, tokens = reply_with_ties(model, tokenizer, row["messages"], max_new_tokens, cfg.chat_template_kwargs)
        prompts.append({"id": row["id"], "rendered": rendered, "answer": answer, "stopped": stopped, "near_ties": ties, "tokens": tokens})
    Path(out_file).write_text(
        json.dumps(
            {"template": template, "template_unsupported": unsupported, "stops": stops, "special_tokens": special_tokens(tokenizer), "prompts": prompts},
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    emit("complete", adapter_path=None, metrics={"ollama_file": str(out_file), "prompts": len(prompts), "template": template is not None})
    return 0


def modelfile_template(adapter_dir: Path, template_kwargs: dict) -> tuple[str, list[str]] | None:
    """The Go template and stops from the tokenizer saved beside the adapter; None when it cannot be expressed."""
    from transformers import AutoTokenizer

    from .data import ensure_chat_template

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(adapter_dir))
    except (OSError, ValueError) as e:
        raise TrainerError("no_adapter", f"The adapter's tokenizer cannot be read: {e}") from e
    ensure_chat_template(tokenizer)
    try:
        return go_template(tokenizer, template_kwargs)
    except TemplateUnsupported:
        return None
