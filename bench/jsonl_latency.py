"""Per-message time of ``privacy-bot ask --jsonl`` as an outside caller sees it.

    .venv/bin/python bench/jsonl_latency.py [--sets holdout9] [--rounds 1]

Starts the command as a separate process, sends the labelled messages one line at a time and waits for
each answer before sending the next, so every figure is the round trip of one message (pipe both ways,
JSON, the engine). Prints the time to the first answer (start-up and engine load), p50 / p99 / max per
message after it, and the whole run. Baseline in the same run: the same round trip through a Python
process that only parses each line and writes a JSON answer back (what a pipe and JSON cost on this
machine), so the ratio says what the engine adds. No message text is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ROOT / "tests" / "data" / "messages"
ECHO = ("import json, sys\n"
        "for line in sys.stdin:\n"
        "    item = json.loads(line)\n"
        "    sys.stdout.write(json.dumps({'id': item.get('id'), 'intent': 'question'}) + '\\n')\n"
        "    sys.stdout.flush()\n")


def round_trips(command: list[str], lines: list[str]) -> tuple[float, list[float], float]:
    """(seconds to the first answer, milliseconds per later message, seconds in all)."""
    env = {**os.environ, "PRIVACY_BOT_CONFIG": str(ROOT / "config.toml")}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                               bufsize=1)
    assert process.stdin is not None and process.stdout is not None
    first = 0.0
    times: list[float] = []
    for number, line in enumerate(lines):
        sent = time.perf_counter()
        process.stdin.write(line + "\n")
        process.stdin.flush()
        answer = process.stdout.readline()
        elapsed = time.perf_counter() - sent
        if not answer:
            raise SystemExit(f"{command[0]} stopped answering at line {number + 1}")
        if number == 0:
            first = time.perf_counter() - started
        else:
            times.append(elapsed * 1000)
    process.stdin.close()
    process.wait(timeout=30)
    return first, times, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="holdout9")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each command (the best p99 is shown too)")
    args = parser.parse_args()
    lines = []
    for name in args.sets.split(","):
        for raw in (MESSAGES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            item = json.loads(raw)
            lines.append(json.dumps({"id": item["id"], "text": item["text"]}, ensure_ascii=False))
    bot = [str(Path(sys.executable).with_name("privacy-bot")), "ask", "--jsonl"]
    echo = [sys.executable, "-c", ECHO]
    print(f"{len(lines)} messages from {args.sets}, one at a time, each answer awaited")
    print(f"{'command':<10} {'first s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'total s':>8}")
    p99s: dict[str, list[float]] = {"echo": [], "engine": []}
    for _ in range(args.rounds):
        for name, command in (("echo", echo), ("engine", bot)):
            first, times, total = round_trips(command, lines)
            p99 = percentile(times, 0.99)
            p99s[name].append(p99)
            print(f"{name:<10} {first:8.2f} {statistics.median(times):8.3f} {p99:8.3f} {max(times):8.3f} {total:8.2f}")
    best_engine, best_echo = min(p99s["engine"]), min(p99s["echo"])
    print(f"best p99: engine {best_engine:.3f} ms, echo {best_echo:.3f} ms, the engine adds {best_engine - best_echo:.3f} ms "
          f"(ratio x{best_engine / best_echo:.1f}); target: p99 under 5 ms per message")


if __name__ == "__main__":
    main()
