"""Runs the trainer's CLI in this process, then prints its peak resident memory as one more
JSON line: `python bench/peak_rss.py train --config run.json` (the preference benchmark)."""

import json
import resource
import sys

from finetuneflow_trainer.cli import main

if __name__ == "__main__":
    code = main(sys.argv[1:])
    # ru_maxrss is in KiB on Linux.
    print(json.dumps({"event": "peak_rss", "mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}), flush=True)
    sys.exit(code)
