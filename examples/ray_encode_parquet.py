"""Encode a corpus with Ray Data into Parquet: one SPLADE encoder per actor.

python examples/ray_encode_parquet.py --model ./my-splade --input corpus.jsonl --output vectors/
python examples/ray_encode_parquet.py --address auto ...   # on a running Ray cluster

The input is JSON lines or Parquet with an id column and a text column (BEIR's corpus.jsonl
works as is: ``_id``, ``title``, ``text``; the title is put before the text). The output is a
folder of Parquet files: the id, the text, and the vector as ``indices`` (list<int32>) and
``values`` (list<float32>), ready for examples/parquet_to_qdrant.py or parquet_to_milvus.py.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import ray

from spladekit.ray import encode_dataset


def with_title(batch: pa.Table) -> pa.Table:
    """BEIR documents are "title text": join the two columns into the text column."""
    if "title" not in batch.column_names:
        return batch
    title = pc.fill_null(batch["title"], "")  # a missing text stays missing: named as an error
    text = pc.binary_join_element_wise(title, batch["text"], " ")
    text = pc.utf8_trim_whitespace(text)  # an empty title leaves no leading space
    return batch.set_column(batch.column_names.index("text"), "text", text)


def read(path: str, blocks: int) -> Any:
    if path.endswith((".jsonl", ".json")):
        return ray.data.read_json(path, override_num_blocks=blocks)
    return ray.data.read_parquet(path, override_num_blocks=blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("SPLADEKIT_MODEL", "prithivida/Splade_PP_en_v1"),
        help="Hub repo id or a folder every node can read (env: SPLADEKIT_MODEL)",
    )
    parser.add_argument("--input", required=True, help="a .jsonl file, or Parquet files/folder")
    parser.add_argument("--output", required=True, help="folder for the Parquet output")
    parser.add_argument("--id-column", default="_id")
    parser.add_argument("--actors", type=int, default=None, help="default: grow with free CPUs")
    parser.add_argument("--threads-per-actor", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=256, help="rows per actor call")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: local)")
    parser.add_argument("--num-cpus", type=int, default=None, help="local Ray only")
    args = parser.parse_args()

    ray.init(address=args.address, num_cpus=args.num_cpus, include_dashboard=False)
    try:
        # Several blocks per actor, so every actor has work and a slow block does not stall one.
        blocks = 4 * max(1, args.actors or int(ray.cluster_resources().get("CPU", 1)))
        ds = read(args.input, blocks)
        ds = ds.map_batches(with_title, batch_format="pyarrow")
        ds = ds.select_columns([args.id_column, "text"])
        encoded = encode_dataset(
            ds,
            args.model,
            id_column=args.id_column,
            actors=args.actors,
            threads_per_actor=args.threads_per_actor,
            batch_size=args.batch_size,
        )
        start = time.perf_counter()
        encoded.write_parquet(args.output)
        seconds = time.perf_counter() - start
        rows = ray.data.read_parquet(args.output).count()
        print(f"encoded {rows} documents in {seconds:.1f} s into {args.output}")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
