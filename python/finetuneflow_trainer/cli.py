"""`python -m finetuneflow_trainer <command>`: argument parsing, and turning every
failure into one `error` event and a non-zero exit code (never a bare traceback)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from . import events, ranks, watchdog
from .errors import EXIT_CANCELLED, EXIT_ERROR, EXIT_OK, EXIT_OOM, TrainerError



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m finetuneflow_trainer", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    hw = sub.add_parser("hardware", help="describe the GPU and recommend LoRA or QLoRA")
    hw.add_argument("--params", type=float, help="model parameter count")
    hw.add_argument("--need-lora-gb", type=float, help="estimated VRAM for LoRA (from the server)")
    hw.add_argument("--need-qlora-gb", type=float, help="estimated VRAM for QLoRA (from the server)")
    tr = sub.add_parser("train", help="train an adapter from a JSON config")
    tr.add_argument("--config", required=True)
    tr.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    pr = sub.add_parser("probe", help="a few real steps at the planned settings, longest batch first: peak VRAM, tokens/s, back-off on OOM")
    pr.add_argument("--config", required=True)
    pr.add_argument("--steps", type=int, default=6)
    ev = sub.add_parser("evaluate", help="eval loss, perplexity and before/after samples")
    ev.add_argument("--run", required=True)
    ev.add_argument("--samples", type=int, default=5)
    ev.add_argument("--max-new-tokens", type=int, default=128)
    an = sub.add_parser("answers", help="base and fine-tuned greedy answers to questions (judged evaluation)")
    an.add_argument("--run", required=True)
    an.add_argument("--questions", required=True, help='JSON lines {"id", "messages"} ending with the user turn')
    an.add_argument("--out", required=True)
    an.add_argument("--max-new-tokens", type=int, default=256)
    ol = sub.add_parser("ollama-prepare", help="Ollama template and stops from the chat template, and the tuned model's answers for the parity check")
    ol.add_argument("--run", required=True)
    ol.add_argument("--prompts", required=True, help='JSON lines {"id", "messages"} ending with the user turn')
    ol.add_argument("--out", required=True)
    ol.add_argument("--max-new-tokens", type=int, default=64)
    sv = sub.add_parser("serve", help="the playground worker: base + adapter loaded once, JSON-lines requests on stdin, tokens streamed")
    sv.add_argument("--run", required=True)
    sv.add_argument("--idle-seconds", type=float, default=600.0)
    ex = sub.add_parser("export", help="adapter, metrics, report, Modelfile and one zip")
    ex.add_argument("--run", required=True)
    ex.add_argument("--out")
    ex.add_argument("--merge", action="store_true", help="also save the base model merged with the adapter")
    ex.add_argument("--provenance", help="JSON file of data provenance lines for the report")
    en = sub.add_parser("encode", help="write the token ids and labels training would use (parity checks)")
    en.add_argument("--config", required=True)
    en.add_argument("--out", required=True, help="JSON-lines file: one {input_ids, labels} (or null when dropped) per row")
    fg = sub.add_parser("from-gguf", help="a Hugging Face model folder from a GGUF file (dequantized to float32)")
    fg.add_argument("gguf")
    fg.add_argument("out")
    tm = sub.add_parser("make-tiny-model", help="write a tiny random Llama model (tests, demos)")
    tm.add_argument("dir")
    return p


def _processes(cfg) -> int:
    """How many ranks `train` runs: 1 inside a launched rank, else the config's or every GPU."""
    if ranks.in_launched_rank():
        return 1
    gpus = ranks.visible_gpus()
    if cfg.num_processes is None:
        return max(1, gpus)
    if gpus and cfg.num_processes > gpus:
        raise TrainerError(
            "invalid_config",
            f"num_processes is {cfg.num_processes} but only {gpus} GPU(s) are visible.",
            "Lower num_processes or leave it out to use every visible GPU.",
        )
    return cfg.num_processes


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "hardware":
        from .hardware import check

        events.emit("hardware", **check(args.params, args.need_lora_gb, args.need_qlora_gb))
        return EXIT_OK
    if args.command == "train":
        from .config import load_config
        from .train import run

        cfg = load_config(args.config)
        processes = _processes(cfg)
        if processes > 1:
            argv = ["train", "--config", args.config, *(["--resume"] if args.resume else [])]
            return ranks.launch(processes, argv, events.protocol_stream())
        if cfg.stage == "dpo":
            from .preference import run as preference_round

            return preference_round(cfg, resume=args.resume)
        return run(cfg, resume=args.resume)
    if args.command == "probe":
        from .config import load_config
        from .probe import run as probe

        return probe(load_config(args.config), steps=args.steps)
    if args.command == "evaluate":
        from .evaluate import run

        return run(args.run, samples=args.samples, max_new_tokens=args.max_new_tokens)
    if args.command == "answers":
        from .evaluate import answers

        return answers(args.run, args.questions, args.out, max_new_tokens=args.max_new_tokens)
    if args.command == "ollama-prepare":
        from .ollama import prepare

        return prepare(args.run, args.prompts, args.out, max_new_tokens=args.max_new_tokens)
    if args.command == "serve":
        from .serve import run as serve

        return serve(args.run, idle_seconds=args.idle_seconds)
    if args.command == "export":
        from .export import run

        return run(args.run, out_dir=args.out, merge=args.merge, provenance_file=args.provenance)
    if args.command == "encode":
        from .config import load_config
        from .data import write_encoding

        events.emit("complete", adapter_path=None, metrics=write_encoding(load_config(args.config), args.out))
        return EXIT_OK
    if args.command == "from-gguf":
        from .gguf_import import convert

        events.emit("complete", adapter_path=None, metrics=convert(args.gguf, args.out))
        return EXIT_OK
    if args.command == "make-tiny-model":
        from .tiny import build

        path = build(args.dir)
        events.emit("complete", adapter_path=None, metrics={"model_dir": str(path)})
        return EXIT_OK
    raise AssertionError(args.command)


def main(argv: list[str] | None = None) -> int:
    # Keep the real stdout for events only. Anything else that writes to it, Python or
    # native code (tokenizers' Rust progress bars), is sent to stderr at the fd level.
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    events.use_protocol_stream(protocol)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    watchdog.watch_supervisor_from_env()
    try:
        return dispatch(args)
    except TrainerError as e:
        events.emit_error(e.error_code, e.message, e.advice)
        return e.exit_code
    except MemoryError:
        events.emit_error("out_of_memory", "The machine ran out of memory.", "Lower the batch size or max_seq_length.")
        return EXIT_OOM
    except KeyboardInterrupt:
        events.emit("cancelled", step=0, checkpoint_path=None, adapter_path=None)
        return EXIT_CANCELLED
    except Exception as e:  # noqa: BLE001 - reported as an event, traceback on stderr
        traceback.print_exc(file=sys.stderr)
        events.emit_error("internal_error", f"The trainer failed: {type(e).__name__}: {e}"[:1000], "See the trainer log for details.")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
