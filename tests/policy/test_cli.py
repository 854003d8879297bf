"""``privacy-bot ask`` and ``privacy-bot policy`` as a user runs them."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import REPO_ROOT


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "а налоговая может получить мои данные от вас?", "--json"], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["lang"] == "ru" and result["intent"] == "question"
    assert result["sections"][0]["id"] == "legal-requirement"
    assert set(result["sections"][0]) == {"id", "title", "score"}
    assert 0.0 <= result["confidence"] <= 1.0
    assert "https://jetbit.ru/policy/" in result["answer"]
    assert len(result["policy_version"]) == 12


def test_ask_human_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ask", "do you sell my data?", "--lang", "en"], capsys)
    assert code == 0
    assert "Disclosure of Data to Third Parties" in out
    assert "We do not disclose users’ personal information" in out
    assert "Section: disclosure" in out

    code, out, _ = run(["ask", "удалите мои данные"], capsys)
    assert code == 0
    assert "удалить свои данные" in out and "intent: deletion" in out


def test_ask_without_text_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["ask"], capsys)
    assert code == 1 and "ask needs a message" in err


def test_ask_with_a_broken_policy_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACY_BOT__POLICY__DIRECTORY", str(tmp_path))
    code, _, err = run(["ask", "hello"], capsys)
    assert code == 1 and "policy.toml: file not found" in err


def test_policy_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["policy", "list", "--lang", "en"], capsys)
    assert code == 0
    assert "third-party-services" in out and "How to Contact Us" in out
    code, out, _ = run(["policy", "show", "contact", "--lang", "ru"], capsys)
    assert code == 0 and "support@jetbit.ru" in out and "Как с нами связаться" in out
    code, _, err = run(["policy", "show", "cookies"], capsys)
    assert code == 1 and "no policy section 'cookies'" in err


def test_jsonl_bad_lines_get_error_objects(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    lines = '{"id": "a", "text": "hi"}\nnot json\n{"id": 7, "text": 5}\n{"text": "do you use cookies", "lang": "en"}\n'
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    code, out, _ = run(["ask", "--jsonl"], capsys)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(results) == 4
    assert results[0]["id"] == "a" and results[0]["intent"] == "greeting"
    assert "error" in results[1] and results[2]["id"] == 7 and "error" in results[2]
    assert results[3]["sections"][0]["id"] == "non-personal-data" and "id" not in results[3]


@pytest.mark.slow
def test_jsonl_subprocess_handles_1000_lines_without_slowing_down(tmp_path: Path) -> None:
    texts = ["r u passing my stuff on to other firms", "а налоговая может получить мои данные от вас?",
             "кто ещё увидит мой номер телефона", "thanks!", "сколько стоит сайт",
             "Hello,\n\nplease delete all my personal data.\n\nBest regards,\nJohn",
             "Do you use cookies?", "Как вы защищаете данные?"]
    lines = [json.dumps({"id": f"m{i}", "text": texts[i % len(texts)] + f" {i}"}, ensure_ascii=False)
             for i in range(1000)]
    executable = Path(sys.executable).with_name("privacy-bot")
    env = {**os.environ, "PRIVACY_BOT_CONFIG": str(REPO_ROOT / "config.toml")}
    started = time.perf_counter()
    completed = subprocess.run([str(executable), "ask", "--jsonl"], input="\n".join(lines) + "\n",
                               capture_output=True, text=True, timeout=60, env=env, check=False)
    elapsed = time.perf_counter() - started
    assert completed.returncode == 0, completed.stderr
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [r["id"] for r in results] == [f"m{i}" for i in range(1000)]
    for result in results:
        assert {"lang", "intent", "confidence", "sections", "answer", "policy_version"} <= set(result)
        assert result["intent"] in {"question", "deletion", "correction", "access", "human", "out_of_scope",
                                    "greeting"}
    # A guard against per-line work growing with the stream (about 7 s on a quiet 2-core machine, most of it
    # start-up); the speed itself is measured against a baseline by bench/jsonl_latency.py.
    assert elapsed < 30.0, f"1000 lines took {elapsed:.1f} s"


def test_jsonl_answers_each_line_before_the_next_arrives() -> None:
    # A caller that writes one line and waits for its answer (to time each message) must get it at once,
    # not when stdin closes. (Without PYTHONUNBUFFERED, which would hide a missing flush.)
    executable = Path(sys.executable).with_name("privacy-bot")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    env["PRIVACY_BOT_CONFIG"] = str(REPO_ROOT / "config.toml")
    process = subprocess.Popen([str(executable), "ask", "--jsonl"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdin is not None and process.stdout is not None
    try:
        for number, text in enumerate(["Do you use cookies?", "удалите мои данные", "сколько стоит сайт"]):
            process.stdin.write(json.dumps({"id": number, "text": text}, ensure_ascii=False) + "\n")
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], 30)
            assert ready, "no answer within 30 s: the output is held back until stdin closes"
            answer = json.loads(process.stdout.readline())
            assert answer["id"] == number
            assert answer["intent"] == ["question", "deletion", "out_of_scope"][number]
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
