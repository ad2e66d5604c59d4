"""What cross-checking the public catalogs costs a refresh: a synthetic mirror
(``bench.synth``) and reference files in the four formats, shaped like the real ones
(thousands of entries, most of them for models the mirror lacks; prefixed, dated and
clause-matched ids; a tenth of the linked prices disagreeing), refreshed with and without
them. Reports the ``references`` step's seconds, the history step's, the whole run's, and
the refresh's peak RSS.

Command line: ``python -m bench.references [--pages 1500] [--work-dir DIR]``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from bench.synth import Mirror, SynthModel, generate, write
from modelcat.demo.mirror import MirrorServer

FAST = ["--delay", "0", "--concurrency", "16", "--set", "RETRY_BACKOFF_BASE=0.01"]


def per_token(usd: Decimal) -> str:
    return format(usd.scaleb(-6).normalize(), "e")


def first_tier(model: SynthModel, metric: str) -> Decimal | None:
    for price in model.official_prices():
        if price.metric == metric and price.tier.min_tokens == 0:
            return price.usd
    return None


def disagree(rng: random.Random, usd: Decimal) -> Decimal:
    return usd * 2 if rng.random() < 0.1 else usd


def references(mirror: Mirror, root: Path, seed: int = 0) -> dict[str, int]:
    """Write the four files under ``root/references``; returns their entry counts."""
    rng = random.Random(seed)
    out = root / "references"
    out.mkdir(exist_ok=True)
    litellm: dict[str, dict] = {"sample_spec": {"input_cost_per_token": 0}}
    openrouter: list[dict] = []
    models_dev: dict[str, dict] = {}
    genai: dict[str, dict] = {}
    for model in mirror.models:
        family = model.provider_family.lower()
        base_in, base_out = first_tier(model, "input"), first_tier(model, "output")
        spec: dict = {
            "litellm_provider": family,
            "max_input_tokens": model.context_window_tokens,
            "max_output_tokens": model.max_output_tokens,
        }
        if base_in is not None:
            spec["input_cost_per_token"] = per_token(disagree(rng, base_in))
        if base_out is not None:
            spec["output_cost_per_token"] = per_token(disagree(rng, base_out))
        litellm[model.model_id] = spec
        for prefix in ("azure", "bedrock/us-east-1", "vertex_ai"):
            litellm[f"{prefix}/{model.model_id}"] = dict(spec)
        openrouter.append(
            {
                "id": f"{family}/{model.model_id}",
                "canonical_slug": f"{family}/{model.model_id}-2025-01-01",
                "context_length": model.context_window_tokens,
                "top_provider": {"max_completion_tokens": model.max_output_tokens},
                "pricing": {"prompt": str(per_token(base_in or Decimal(0))), "completion": "-1"},
            }
        )
        cost = {"input": float(disagree(rng, base_in))} if base_in is not None else {}
        limit = {"context": model.context_window_tokens, "output": model.max_output_tokens}
        models_dev.setdefault(family, {"id": family, "models": {}})["models"][model.model_id] = {
            "cost": cost,
            "limit": limit,
        }
        genai.setdefault(family, {"id": family, "models": []})["models"].append(
            {
                "id": model.model_id.rsplit("-", 1)[0] + f"-{len(genai[family]['models'])}",
                "match": {"or": [{"equals": model.model_id}, {"regex": f"^{model.model_id}$"}]},
                "context_window": model.context_window_tokens,
                "prices": {"input_mtok": float(base_in or 0)},
            }
        )
    for index in range(2 * len(mirror.models)):  # the models the gateway lacks
        litellm[f"other-model-{index}"] = {"input_cost_per_token": 1e-06}
        models_dev.setdefault("other", {"id": "other", "models": {}})["models"][f"m-{index}"] = {
            "cost": {"input": 1}
        }
    (out / "litellm.json").write_text(json.dumps(litellm))
    (out / "openrouter.json").write_text(json.dumps({"data": openrouter}))
    (out / "models.dev.json").write_text(json.dumps(models_dev))
    (out / "genai-prices.json").write_text(json.dumps(list(genai.values())))
    return {
        "litellm": len(litellm) - 1,
        "openrouter": len(openrouter),
        "models.dev": sum(len(p["models"]) for p in models_dev.values()),
        "genai-prices": sum(len(p["models"]) for p in genai.values()),
    }


def refresh(server: MirrorServer, data_dir: Path, *extra: str) -> dict:
    """One refresh in a process of its own: its summary, wall seconds and peak RSS (MB)."""
    probe = (
        "import resource, subprocess, sys; "
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
    )
    command = [
        sys.executable,
        "-m",
        "modelcat.cli",
        "refresh",
        "--start-url",
        server.url("/llms.txt"),
        "--data-dir",
        str(data_dir),
        "-q",
        *FAST,
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True
    )
    seconds = time.perf_counter() - started
    (run_dir,) = sorted((data_dir / "runs").iterdir())[-1:]
    summary = json.loads((run_dir / "summary.json").read_text())
    rss_mb = int(done.stdout.strip()) / 1024
    return {"summary": summary, "wall_seconds": round(seconds, 2), "peak_rss_mb": round(rss_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1500)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="modelcat-bench-ref-") as scratch:
        work = args.work_dir or Path(scratch)
        mirror = generate(args.pages)
        root = work / "mirror"
        write(mirror, root)
        counts = references(mirror, root)
        sizes = {p.name: p.stat().st_size for p in (root / "references").iterdir()}
        with MirrorServer(root) as server:
            options = [
                option
                for source in counts
                for option in (
                    "--reference",
                    f"{source}={server.url(f'/references/{source}.json')}",
                )
            ]
            plain = refresh(server, work / "plain")
            checked = refresh(server, work / "checked", *options)
            again = refresh(server, work / "checked", *options)
    print(json.dumps({"entries": counts, "bytes": sizes}, indent=1))
    for name, result in (("no references", plain), ("references", checked), ("again", again)):
        summary = result["summary"]
        print(
            f"{name}: wall {result['wall_seconds']}s, peak RSS {result['peak_rss_mb']} MB, "
            f"steps {summary['seconds']}, discrepancies {summary.get('discrepancies')}, "
            f"matched {[(r['source'], r['matched']) for r in summary.get('references', [])]}"
        )


if __name__ == "__main__":
    main()
