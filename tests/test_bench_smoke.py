"""Each benchmark runs at ``--tiny`` size, prints its JSON figures and its bounds hold.

The benchmark is a script (``uv run python bench/chats_list.py``), so it is run the same
way here: a subprocess with this interpreter, from the repository root.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_bench(*args: str, script: str = "chats_list.py") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "src")])
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_tiny_benchmark_reports_round_trips_and_holds_its_bounds(tmp_path: Path) -> None:
    out = tmp_path / "chats_list.json"
    proc = run_bench("--tiny", "--repeat", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == figures
    assert (figures["benchmark"], figures["dialogs"], figures["repeat"]) == ("chats_list", 50, 2)

    refresh = figures["refresh"]
    assert refresh["get_dialogs_bound"] == math.ceil(50 / 100) + 2
    assert 1 <= refresh["get_dialogs_requests"] <= refresh["get_dialogs_bound"]
    assert refresh["requests"]["GetDialogsRequest"] == refresh["get_dialogs_requests"]
    assert "GetHistoryRequest" not in refresh["requests"]

    cache_hit = figures["cache_hit"]
    assert cache_hit["requests"] == cache_hit["requests_bound"] == 0

    baseline = figures["baseline"]
    assert baseline["get_dialogs_requests"] >= 1
    assert refresh["get_dialogs_requests"] <= baseline["get_dialogs_requests"] + 2

    for section in (refresh, cache_hit, baseline):
        assert section["seconds"] > 0
    ratios = figures["ratios"]
    assert set(ratios) >= {"refresh_vs_bare", "cache_hit_vs_refresh"}
    assert all(isinstance(v, float | int) and v > 0 for v in ratios.values())
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_bad_size_is_a_usage_error() -> None:
    proc = run_bench("--dialogs", "0")
    assert proc.returncode == 2
    assert "--dialogs" in proc.stderr


def test_tiny_export_benchmark_counts_history_requests() -> None:
    proc = run_bench("--tiny", "--repeat", "1", script="export.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert (figures["benchmark"], figures["messages"]) == ("export", 1000)
    export = figures["export"]
    assert export["history_bound"] == math.ceil(1000 / 100) + 2
    assert 10 <= export["history_requests"] <= export["history_bound"]
    assert figures["baseline"]["history_requests"] >= 10
    assert figures["ratios"]["throughput_vs_bare"] > 0
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_archive_sync_benchmark_costs_one_request_when_nothing_is_new() -> None:
    proc = run_bench("--tiny", "--repeat", "1", script="archive_sync.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["first_sync"]["history_requests"] <= figures["first_sync"]["history_bound"]
    assert figures["nothing_new"]["history_requests"] == 1
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_actions_benchmark_holds_its_round_trip_bounds() -> None:
    proc = run_bench("--tiny", script="actions.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["clean_plan"]["planned"] == 100
    assert figures["clean_plan"]["history_requests"] <= figures["clean_plan"]["history_bound"]
    assert figures["clean_plan"]["delete_requests"] == 0
    assert figures["clean_apply"]["delete_requests"] == figures["clean_apply"]["delete_bound"] == 1
    react = figures["react_floods"]
    assert react["ok_audit_lines"] == react["items"] == 500
    assert react["reaction_requests"] == react["items"] + react["floods"] > react["items"]
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_map_reduce_benchmark_fills_requests_within_the_window() -> None:
    proc = run_bench("--tiny", script="map_reduce.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert (figures["benchmark"], figures["messages"], figures["window"]) == (
        "map_reduce",
        2000,
        16_000,
    )
    mapped = figures["map"]
    assert mapped["lower_bound"] == math.ceil(mapped["payload_tokens"] / figures["budget"]["input"])
    assert mapped["lower_bound"] <= mapped["calls"] <= mapped["lower_bound"] * 1.05 + 1
    assert figures["reduce"]["calls"] >= 1
    assert figures["requests"] == mapped["calls"] + figures["reduce"]["calls"]
    assert figures["largest_request_tokens"] <= figures["window"]
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_analyze_local_benchmark_agrees_with_pandas_and_the_cli(tmp_path: Path) -> None:
    proc = run_bench("--tiny", "--repeat", "1", "--cache", str(tmp_path), script="analyze_local.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert (figures["benchmark"], figures["messages"], figures["repeat"]) == (
        "analyze_local",
        5000,
        1,
    )
    assert 0 < figures["kept"] < 5000
    assert figures["figures_match"] is True
    assert figures["cli_check"]["same_figures"] is True
    for side in (figures["tgpilot"], figures["baseline"]):
        assert side["seconds"] > 0
        assert side["peak_rss_mb"] >= side["rss_before_mb"] > 0
    assert figures["ratios"]["pandas_vs_tgpilot"] > 0
    assert figures["target"] == {"pandas_vs_tgpilot": 2.0}
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_rag_index_benchmark_embeds_in_batches_of_100_and_nothing_twice() -> None:
    proc = run_bench("--tiny", "--queries", "5", script="rag_index.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    first = figures["first_index"]
    assert first["embedding_requests"] == math.ceil(first["chunks"] / 100) > 0
    assert first["points"] == first["chunks"]
    assert figures["nothing_new"]["embedding_requests"] == 0
    assert figures["nothing_new"]["chunks_embedded"] == 0
    assert 0 < figures["search"]["median_ms"] <= figures["search"]["p95_ms"]
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_run_soak_answers_every_eligible_message_once_and_reports_overhead() -> None:
    proc = run_bench("--tiny", script="run_soak.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert (figures["benchmark"], figures["messages"], figures["chats"]) == ("run_soak", 60, 6)
    assert figures["answered"] == figures["eligible"] == figures["replies"] > 0
    assert figures["answered_twice"] == figures["ineligible_answered"] == 0
    assert figures["handler_failures"] == 0
    overhead = figures["overhead_ms"]
    assert overhead["samples"] == figures["llm_requests"]
    assert 0 <= overhead["median"] <= overhead["p99"] <= overhead["max"]
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_memory_benchmark_reports_flat_peak_rss_for_export_and_import() -> None:
    proc = run_bench("--tiny", "--formats", "jsonl", script="memory.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert (figures["benchmark"], figures["sizes"]) == ("memory", [1000, 5000])
    for name in ("export_jsonl", "import"):
        side = figures[name]
        for run in side["runs"].values():
            assert run["code"] == 0
            assert run["peak_rss_mb"] >= run["rss_before_mb"] > 0
            assert run["added_peak_mb"] >= 0
        assert side["growth_mb"] < figures["target"]["growth_mb_below"] == 30.0
    assert figures["export_jsonl"]["runs"]["5000"]["lines"] == 5000
    assert figures["import"]["runs"]["5000"]["stored"] == 5000
    assert figures["bounds_ok"] is True and figures["problems"] == []


def test_tiny_search_benchmark_agrees_with_the_regex_scan(tmp_path: Path) -> None:
    proc = run_bench("--tiny", "--cache", str(tmp_path), script="search.py")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    assert figures["benchmark"] == "search"
    assert figures["sizes"] == {"messages": 5000, "queries": 3, "limit": 50}
    assert figures["agreement"] == {"agreeing_queries": 3, "queries": 3}
    for query in figures["queries"]:
        assert query["fts_matches"] == query["regex_matches"] > 0
        assert query["hits"] == query["hits_in_regex_matches"] == min(query["fts_matches"], 50)
    assert figures["tgpilot"]["median_seconds"] > 0
    assert figures["ratios"]["regex_vs_fts"] > 0
    assert figures["target"] == {"regex_vs_fts": 50.0}
    assert figures["bounds_ok"] is True and figures["problems"] == []


def tiny_figures(script: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run ``bench/<script> --tiny``: its JSON figures, also written to ``--out``, with
    every bound held."""
    out = tmp_path / (Path(script).stem + ".json")
    proc = run_bench("--tiny", *args, "--out", str(out), script=script)
    assert proc.returncode == 0, proc.stderr
    figures: dict[str, Any] = json.loads(proc.stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == figures
    assert figures["bounds_ok"] is True and figures["problems"] == []
    return figures


def test_tiny_linear_list_benchmark_counts_round_trips(tmp_path: Path) -> None:
    figures = tiny_figures("linear_list.py", tmp_path, "--repeat", "1")
    assert (figures["benchmark"], figures["issues"], figures["page_size"]) == (
        "linear_list",
        60,
        25,
    )
    bound = math.ceil(60 / 25)
    assert figures["tgpilot"]["requests"] == figures["tgpilot"]["requests_bound"] == bound
    assert figures["service"]["requests"] == figures["baseline"]["requests"] == bound
    for section in ("tgpilot", "service", "baseline"):
        assert figures[section]["seconds"] > 0
    assert all(v > 0 for v in figures["ratios"].values())


def test_tiny_linear_sync_benchmark_reruns_without_a_mutation(tmp_path: Path) -> None:
    figures = tiny_figures("linear_sync.py", tmp_path, "--repeat", "1")
    assert (figures["benchmark"], figures["items"], figures["page_size"]) == (
        "linear_sync",
        30,
        10,
    )
    assert figures["first"]["mutations"] == 30
    rerun = figures["rerun"]
    assert rerun["mutations"] == 0 and rerun["marker_query_pages"] == math.ceil(30 / 10)
    assert rerun["requests"] <= rerun["marker_query_pages"] + 2  # + team and labels lookups
    assert figures["wiped_store"]["mutations"] == 0
    assert figures["baseline"]["requests"] == rerun["marker_query_pages"]


def test_tiny_linear_mirror_benchmark_writes_only_what_changed(tmp_path: Path) -> None:
    figures = tiny_figures("linear_mirror.py", tmp_path, "--repeat", "1")
    assert (figures["benchmark"], figures["issues"], figures["page_size"]) == (
        "linear_mirror",
        120,
        50,
    )
    assert figures["first"]["issues_fetched"] == 120 and figures["first"]["rows_written"] > 120
    assert figures["rerun"]["rows_written"] == 0
    assert 0 < figures["rerun"]["issues_fetched"] < 120
    assert figures["edit"]["rows_written"] == 10
    assert figures["full_rerun"] == figures["full_rerun"] | {
        "rows_written": 0,
        "issues_fetched": 120,
    }
    assert figures["store"]["rows"] == 120 and figures["store"]["compare_vs_blind_write"] > 0


def test_tiny_mcp_overhead_benchmark_compares_mcp_with_the_direct_call(tmp_path: Path) -> None:
    figures = tiny_figures("mcp_overhead.py", tmp_path)
    assert (figures["benchmark"], figures["calls"]) == ("mcp_overhead", 50)
    for side in ("mcp", "baseline"):
        assert 0 < figures[side]["median_seconds"] <= figures[side]["p99_seconds"]
    assert figures["overhead"]["median_seconds"] <= figures["overhead"]["p99_seconds"]
    assert figures["ratios"]["mcp_vs_direct"] > 0
