"""Runs the trainer's CLI in this process, then prints its peak resident memory as one more
JSON line: `python bench/peak_rss.py train --config run.json` (the preference benchmark)."""

import atexit
import json
import resource
import sys

from finetuneflow_trainer.cli import main
from finetuneflow_trainer.events import protocol_stream


@atexit.register
def peak() -> None:
    # ru_maxrss is in KiB on Linux; atexit, because the CLI ends with sys.exit.
    # The protocol stream: the CLI points sys.stdout at stderr.
    out = protocol_stream()
    out.write(json.dumps({"event": "peak_rss", "mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}) + "\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
