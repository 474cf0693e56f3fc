import json
import math
from pathlib import Path

from finetuneflow_trainer.metrics import perplexity

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "perplexity.json"


def test_perplexity_follows_the_rule_shared_with_the_server():
    for case in json.loads(VECTORS.read_text())["cases"]:
        loss = case["loss"]
        loss = float(loss) if isinstance(loss, str) else loss
        got = perplexity(loss)
        if case["perplexity"] is None:
            assert got is None, case
        else:
            assert math.isclose(got, case["perplexity"], rel_tol=1e-9), case
