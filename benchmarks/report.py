"""benchmarks/run.py's report as markdown: one column per variant, one row per measurement."""

from __future__ import annotations

from typing import Any


def table(r: dict[str, Any]) -> str:
    """The report as markdown: one column per variant, the bare forward beside the queries."""
    docs, q, agree = r["docs"], r["queries"], r.get("agreement", {})
    names = [*docs, "bare-onnx"]
    bare = q.get("bare-onnx", {}).get("p50_ms")
    fe_q = q.get("fastembed", {}).get("p50_ms")

    def cell(table: dict[str, Any], name: str, fmt: Any) -> str:
        row = table.get(name)
        try:
            return fmt(row) if row and "error" not in row else "–"
        except (KeyError, TypeError, ZeroDivisionError):
            return "–"

    def agreement_cell(name: str, mode: str) -> str:
        a = agree.get(name, {}).get(mode)
        if not a:
            return "–"
        if a["identical_index_sets"] == a["texts"]:
            return f"{a['texts']}/{a['texts']}, {a['max_abs_delta']:.1e}"
        return (
            f"{a['identical_index_sets']}/{a['texts']} (Jaccard {a['mean_jaccard']:.3f}), "
            f"{a['max_abs_delta_common']:.1e} on shared"
        )

    heads = {"bare-onnx": "bare ONNX Runtime forward"}
    rows = [
        "| | " + " | ".join(heads.get(n, n) for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def gb(x: dict[str, Any]) -> str:
        return f"{x['peak_rss_mb'] / 1024:.2f}"

    ratios = r.get("query_ratios", {})
    # (row label, where its figures are, how one is written): one line of the table each.
    measured: list[tuple[str, dict[str, Any], Any]] = [
        (
            f"documents/s (batch {r['batch_size']}, 2 threads)",
            docs,
            lambda x: f"{x['docs_per_s']:.2f}",
        ),
        ("documents/s, 1 thread", r["threads_1"], lambda x: f"{x['docs_per_s']:.2f}"),
        (
            "% of fp32 MatMul roofline measured in the same job (2 threads)",
            docs,
            lambda x: f"{x['roofline_pct']:.0f} %",
        ),
        (
            "% of the fp32 MatMul rate sustained as long as the job, right after it",
            docs,
            lambda x: f"{x['roofline_pct_sustained']:.0f} %",
        ),
        ("peak RSS, documents, batch 32 (GB)", docs, gb),
        ("peak RSS, documents, batch 256 (GB)", r["b256"], gb),
        ("query p50 / p95 (ms)", q, lambda x: f"{x['p50_ms']:.1f} / {x['p95_ms']:.1f}"),
        ("query p50 / bare forward", q, lambda x: f"{x['p50_ms'] / bare:.2f}×"),
        ("query p50 / fastembed's", q, lambda x: f"{x['p50_ms'] / fe_q:.2f}×"),
        (
            "query p50 / bare forward, median of per-round ratios",
            ratios,
            lambda x: f"{x['bare-onnx']:.2f}×",
        ),
        (
            "query p50 / fastembed's, median of per-round ratios",
            ratios,
            lambda x: f"{x['fastembed']:.2f}×",
        ),
        ("peak RSS, queries (GB)", q, gb),
    ]
    for label, figures, fmt in measured:
        rows.append(f"| {label} | " + " | ".join(cell(figures, n, fmt) for n in names) + " |")
    for mode, what in (("docs", "documents"), ("queries", "queries")):
        cells = " | ".join(agreement_cell(n, mode) for n in names)
        rows.append(f"| vs fastembed, {what}: same index sets, max abs Δ | {cells} |")
    load = ", ".join(f"{x:.1f}" for x in r.get("load_average", []))
    probes = r.get("roofline_probes") or [r["roofline_gflops"]]
    lines = [
        f"{r['documents']} {'SciFact' if r['corpus'] == 'scifact' else 'fallback-corpus'} documents "
        f"(every {r['corpus_size'] // max(1, r['documents'])}th; median "
        f"{r['median_tokens']:.0f} tokens, {r['over_512']} over 512, truncated by both tools), "
        f"{r['machine']['cpus']} CPUs ({r['machine']['cpu']}; {r['machine'].get('flags', '?')}), "
        f"MatMul roofline {min(probes):.0f}-{max(probes):.0f} GFLOP/s as measured through the run, "
        f"load average at the end {load}, "
        f"{r['when']}",
        "",
        *rows,
        "",
    ]
    if "agreement_int8" in r:
        a = r["agreement_int8"]
        lines.append(
            f"- int8 vs fp32 (random BERT-base weights): index-set Jaccard {a['mean_jaccard']:.3f}, max |Δvalue| on "
            f"shared indices {a['max_abs_delta_common']:.3f}, top-10 overlap of SciFact test queries "
            f"over the subsample {a['top10_overlap']:.2f}"
        )
    quality = r.get("int8_quality")
    if quality:
        res = quality["results"]
        chosen = res.get(quality["default"], {})
        built = quality.get("built_results", {}).get(quality["default"])
        lines.append(
            f"- int8 ranking quality (benchmarks/int8_quality.py, real splade-tiny, SciFact test): "
            f"nDCG@10 fp32 {res['fp32']['nDCG@10']:.4f}, int8 ({quality['default']}, the default) "
            f"{chosen.get('nDCG@10', float('nan')):.4f}: Δ {chosen.get('delta_nDCG@10', float('nan')):+.4f}"
            + (f"; built from safetensors Δ {built['delta_nDCG@10']:+.4f}" if built else "")
            + f" (CPU {quality.get('flags', 'not recorded')})"
        )
    prep = ", ".join(
        f"{name} {p.get('seconds', 0):.1f} s"
        for name, p in r["prepare_once"].items()
        if "seconds" in p
    )
    lines += [
        f"- prepared or built once and cached (not in the timings; the first load): {prep}",
        f"- tiny model: per-document overhead outside ONNX Runtime "
        f"{r['tiny_overhead'].get('overhead_pct', float('nan')):.1f} % of encode time",
        f"- fastembed's default batch 256 needs ≥ {3 * r['fastembed_b256_logits_gb']:.0f} GB on this "
        f"subsample (3 live copies of a {r['fastembed_b256_logits_gb']:.1f} GB logits array)",
    ]
    return "\n".join(lines)
