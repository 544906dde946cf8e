"""spladekit.ray next to the plain encoder on the same texts: ``python benchmarks/ray_bench.py``.

Three setups on the same SciFact documents (title + text), each in a fresh process, their order
rotated every round (other load on the machine only ever slows a run, so each keeps its best):

- ``plain``: ``SpladeEncoder(model, threads=2).encode_documents(texts)``;
- ``plain 2x1``: two processes at once, each ``SpladeEncoder(model, threads=1)`` on half the
  texts (what 2 actors x 1 thread do without Ray: the difference is Ray's own cost);
- ``ray 1x2``: ``encode_dataset``'s map_batches with 1 actor holding 2 CPUs (2 ONNX threads);
- ``ray 2x1``: the same with 2 actors of 1 CPU each.

Ray runs on a local ``ray.init(num_cpus=2)``. Its numbers: *end to end* (``materialize()``
from the start, actor start and model load included) and *steady* (first batch start to last
batch end across actors: Ray's scheduling and data movement between batches, no start-up).
Each actor reports its peak RSS, CPU time (``getrusage``) and model load time from inside.

Other work on a shared machine moves wall-clock docs/s from run to run (and a 2-thread ONNX
Runtime pool suffers most when a thread is descheduled), so each run also counts the CPU
seconds its whole process tree used (Ray's raylet, GCS and workers included): CPU seconds per
document is the measure of Ray's own cost that load does not move. Prints a markdown table and
writes benchmarks/results/ray.json.

python benchmarks/ray_bench.py --docs 2000 --rounds 2
python benchmarks/ray_bench.py --setups plain "plain 2x1" "ray 1x2" "ray 2x1"   # + Ray's bare cost
python benchmarks/ray_bench.py --model benchmarks/.cache/splade-base --docs 100   # BERT-base size
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from corpus import SCIFACT, load_corpus  # noqa: E402
from machine import cpu_flags, cpu_model, peak_rss_mb  # noqa: E402

DEFAULT_MODEL = ROOT.parent / "shared" / "data" / "checkpoints" / "splade-tiny-onnx"
SETUPS = {"plain": None, "plain 2x1": None, "ray 1x2": (1, 2), "ray 2x1": (2, 1)}
RESULTS = BENCH / "results"


def tree_cpu_s(root: int) -> tuple[float, int]:
    """CPU seconds (user + system) used so far by *root* and every live descendant, and how many.

    Other engineers share this machine, so wall-clock docs/s moves with their load; the CPU time
    a setup burns per document does not (much): it is the fair measure of Ray's own cost.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        parent[int(entry)] = int(fields[1])
        # utime + stime, plus cutime + cstime: children already reaped (actors Ray has stopped)
        used[int(entry)] = sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(used.get(pid, 0.0) for pid in tree), len(tree)


# --- workers (one fresh process each) ----------------------------------------------------------


def plain_worker(job: dict[str, Any]) -> dict[str, Any]:
    from spladekit import SpladeEncoder

    texts = load_corpus(job["docs"])
    part, parts = job.get("part", 0), job.get("parts", 1)
    texts = texts[part * len(texts) // parts : (part + 1) * len(texts) // parts]
    began = time.time()
    encoder = SpladeEncoder(job["model"], threads=job.get("threads", 2))
    loaded = time.time()
    cpu = os.times()
    vectors = encoder.encode_documents(texts)
    done = time.time()
    after = os.times()
    return {
        "docs": len(texts),
        "began": began,
        "loaded": loaded,
        "done": done,
        "load_s": loaded - began,
        "encode_s": done - loaded,
        "end_to_end_s": done - began,
        "cpu_s": (after.user + after.system) - (cpu.user + cpu.system),
        "peak_rss_mb": peak_rss_mb(),
        "nnz": sum(len(v) for v in vectors),
    }


def ray_worker(job: dict[str, Any]) -> dict[str, Any]:
    import pyarrow as pa
    import ray

    from spladekit.ray import SpladeBatchEncoder

    class Timed(SpladeBatchEncoder):
        """The library's UDF, plus when each batch ran and the actor's peak RSS (columns)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            began = time.time()
            super().__init__(*args, **kwargs)
            self.load_s = time.time() - began
            # The ONNX Runtime threads the actor's encoder got (from its num_cpus), as checked.
            self.threads = self.encoder._documents.session.threads

        def __call__(self, batch: Any) -> Any:
            began = time.time()
            out = super().__call__(batch)
            ended = time.time()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            facts = {
                "_pid": os.getpid(),
                "_t0": began,
                "_t1": ended,
                "_rss": peak_rss_mb(),
                "_load": self.load_s,
                "_cpu": usage.ru_utime + usage.ru_stime,
                "_threads": self.threads,
            }
            for name, value in facts.items():
                out = out.append_column(name, pa.array([value] * out.num_rows))
            return out

    actors, threads = job["actors"], job["threads"]
    texts = load_corpus(job["docs"])
    rows = [{"id": i, "text": t} for i, t in enumerate(texts)]
    began_init = time.time()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    init_s = time.time() - began_init  # Ray's start-up: reported, never in docs/s
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        blocks = job["blocks"]
        ds = ray.data.from_items(rows, override_num_blocks=blocks).materialize()
        cpu_before, _ = tree_cpu_s(os.getpid())  # Ray's processes are this driver's descendants
        began = time.time()
        # The arguments encode_dataset passes (src/spladekit/ray.py), with the timed class.
        out = ds.map_batches(
            Timed,
            compute=ray.data.ActorPoolStrategy(size=actors),
            batch_size=job["batch_size"],
            batch_format="pyarrow",
            num_cpus=threads,
            fn_constructor_kwargs={"model": job["model"], "id_column": "id"},
            udf_modifying_row_count=False,
        ).materialize()
        ended = time.time()
        cpu_after, processes = tree_cpu_s(os.getpid())
        table = pa.concat_tables(ray.get(out.to_arrow_refs()))
    finally:
        ray.shutdown()
    starts, ends = table.column("_t0").to_pylist(), table.column("_t1").to_pylist()
    per_actor: dict[int, dict[str, float]] = {}
    columns = ("_pid", "_rss", "_load", "_cpu", "_threads")
    for pid, rss, load, cpu, onnx_threads in zip(
        *(table.column(c).to_pylist() for c in columns), strict=True
    ):
        actor = per_actor.setdefault(
            pid, {"peak_rss_mb": 0.0, "load_s": load, "cpu_s": 0.0, "threads": onnx_threads}
        )
        actor["peak_rss_mb"] = max(actor["peak_rss_mb"], rss)
        actor["cpu_s"] = max(actor["cpu_s"], cpu)  # the actor's whole life: start, load, batches
    busy = {}  # seconds inside the UDF per actor (each batch counted once)
    for pid, t0, t1 in set(zip(table.column("_pid").to_pylist(), starts, ends, strict=True)):
        busy[pid] = busy.get(pid, 0.0) + (t1 - t0)
    for pid, seconds in busy.items():
        per_actor[pid]["busy_s"] = seconds
    return {
        "docs": table.num_rows,
        "ray_init_s": init_s,
        "end_to_end_s": ended - began,
        "steady_s": max(ends) - min(starts),
        "cpu_s": cpu_after - cpu_before,
        "processes": processes,
        "actors": list(per_actor.values()),
        "driver_peak_rss_mb": peak_rss_mb(),
        "nnz": sum(len(v) for v in table.column("indices").to_pylist()),
    }


# --- the runner -------------------------------------------------------------------------------


def run(job: dict[str, Any]) -> dict[str, Any]:
    if job["setup"] == "plain 2x1":  # two single-thread encoders at once, half the texts each
        halves = [{**job, "setup": "plain", "threads": 1, "part": k, "parts": 2} for k in (0, 1)]
        procs = [start(half) for half in halves]
        both = [finish(proc, job) for proc in procs]
        return {
            "docs": sum(r["docs"] for r in both),
            "load_s": max(r["load_s"] for r in both),
            "encode_s": max(r["done"] for r in both) - min(r["loaded"] for r in both),
            "end_to_end_s": max(r["done"] for r in both) - min(r["began"] for r in both),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in both),
            "cpu_s": sum(r["cpu_s"] for r in both),
            "nnz": sum(r["nnz"] for r in both),
        }
    return finish(start(job), job)


def start(job: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--job", json.dumps(job)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SPLADEKIT_CACHE": str(BENCH / ".cache" / "spladekit")},
        # Its own session, so its own scheduler autogroup: Ray starts each worker in a new
        # session, and with sched_autogroup a busy machine shares CPU per session, not per
        # process; without this the plain encoder would get one session's share against
        # Ray's one per actor.
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str], job: dict[str, Any]) -> dict[str, Any]:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{job['setup']} failed:\n{err[-4000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=250, help="rows per actor call")
    parser.add_argument("--blocks", type=int, default=8, help="input blocks")
    parser.add_argument("--out", default=str(RESULTS / "ray.json"))
    parser.add_argument(
        "--setups",
        nargs="+",
        choices=list(SETUPS),
        default=["plain", "ray 1x2", "ray 2x1"],
        help="which setups to run ('plain 2x1': two plain 1-thread processes, Ray's bare cost)",
    )
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        job = json.loads(args.job)
        print(json.dumps(plain_worker(job) if job["setup"] == "plain" else ray_worker(job)))
        return

    if not SCIFACT.exists():
        print("note: SciFact not found under ../shared; using the built-in stand-in texts")
    names = [name for name in SETUPS if name in args.setups]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for round_number in range(args.rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        for name in order:
            job: dict[str, Any] = {
                "setup": name,
                "model": args.model,
                "docs": args.docs,
            }
            if SETUPS[name] is not None:
                actors, threads = SETUPS[name]  # type: ignore[misc]
                job |= {
                    "actors": actors,
                    "threads": threads,
                    "batch_size": args.batch_size,
                    "blocks": args.blocks,
                }
            result = run(job)
            runs[name].append(result)
            report(args, names, runs, round_number + 1, quiet=True)  # kept if a later run dies
            seconds = result.get("encode_s", result.get("steady_s"))
            load_average = Path("/proc/loadavg").read_text().split()[0]
            print(
                f"round {round_number + 1} {name:9s} {result['docs'] / seconds:7.2f} docs/s, "
                f"{result['cpu_s'] / result['docs'] * 1000:6.1f} CPU s / 1000 docs "
                f"(load {load_average}, {time.strftime('%H:%M:%S')})",
                flush=True,
            )

    report(args, names, runs, args.rounds, quiet=False)


def report(
    args: argparse.Namespace,
    names: list[str],
    runs: dict[str, list[dict[str, Any]]],
    rounds: int,
    *,
    quiet: bool,
) -> None:
    """The markdown table of the runs so far, printed unless *quiet*, and the JSON file."""
    names = [name for name in names if runs[name]]
    if "plain" not in names:
        return

    counts = {len(runs[name]) for name in names}
    rounds_text = (
        f"{rounds} rounds"
        if counts == {rounds}
        else "runs per setup: " + ", ".join(f"{n} {len(runs[n])}" for n in names)
    )

    def best(name: str, key: str) -> dict[str, Any]:
        return min(runs[name], key=lambda r: r[key])

    def wall(result: dict[str, Any]) -> float:
        return float(result.get("encode_s", result.get("steady_s")))

    plain = best("plain", "encode_s")
    plain_rate = plain["docs"] / plain["encode_s"]
    plain_cpu = best("plain", "cpu_s")["cpu_s"] / plain["docs"] * 1000
    lines = [
        f"{args.docs} SciFact documents, model {Path(args.model).name}, {os.cpu_count()} CPUs "
        f"({cpu_model()}; flags: {cpu_flags()}), best of {rounds_text}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        "| setup | docs/s | docs/s end to end | vs plain | CPU s / 1000 docs | in actors | CPU vs plain | actors busy | peak RSS per process (MB) | model load (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary: dict[str, Any] = {}
    for name in names:
        fast = min(runs[name], key=wall)
        rate = fast["docs"] / wall(fast)
        e2e = best(name, "end_to_end_s")
        cheap = best(name, "cpu_s")
        cpu = cheap["cpu_s"] / cheap["docs"] * 1000
        if SETUPS[name] is None:
            label = (
                "plain encoder, 2 threads" if name == "plain" else "plain, 2 processes x 1 thread"
            )
            in_actors = busy = "–"
            rss, load = f"{fast['peak_rss_mb']:.0f}", f"{fast['load_s']:.2f}"
        else:
            actors, threads = SETUPS[name]  # type: ignore[misc]
            label = f"spladekit.ray, {actors} actor(s) x {threads} thread(s)"
            in_actors = f"{sum(a['cpu_s'] for a in cheap['actors']) / cheap['docs'] * 1000:.1f}"
            share = sum(a["busy_s"] for a in fast["actors"]) / (len(fast["actors"]) * wall(fast))
            busy = f"{share:.1%}"
            rss = "/".join(f"{a['peak_rss_mb']:.0f}" for a in fast["actors"])
            load = "/".join(f"{a['load_s']:.2f}" for a in fast["actors"])
        lines.append(
            f"| {label} | {rate:.2f} | {e2e['docs'] / e2e['end_to_end_s']:.2f} | {rate / plain_rate - 1:+.1%} "
            f"| {cpu:.1f} | {in_actors} | {cpu / plain_cpu - 1:+.1%} | {busy} | {rss} | {load} |"
        )
        summary[name] = {"fastest": fast, "end_to_end": e2e, "least_cpu": cheap}
        if fast["nnz"] != plain["nnz"]:  # batch composition can flip a weight at ~0
            lines.append(f"  (note: {name} nnz {fast['nnz']} vs plain {plain['nnz']})")
    inits = [r["ray_init_s"] for n in names if SETUPS[n] is not None for r in runs[n]]
    if inits:
        lines.append("")
        lines.append(
            f"Ray start-up (`ray.init`, not in any figure above): {min(inits):.1f}-{max(inits):.1f} s; "
            "docs/s: first batch start to last batch end (actor start and model load excluded); "
            "end to end: from `map_batches` to materialized, actor start and model load included"
        )
    if not quiet:
        print("\n".join(lines))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps({"table": lines, "summary": summary, "runs": runs}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
