"""Insert encoded Parquet (spladekit encode / spladekit.ray) into Milvus as a sparse field.

python examples/parquet_to_milvus.py --parquet vectors/ --milvus ./splade.db --model ./my-splade --query "..."
python examples/parquet_to_milvus.py --parquet vectors/ --milvus http://localhost:19530

``--milvus`` is a Milvus Lite file (``*.db``, Linux and macOS) or a server URL. Each row becomes
an entity with its id (VARCHAR primary key), its text, and a ``SPARSE_FLOAT_VECTOR`` field given
as ``{token_id: weight}``, in batches. Milvus refuses an empty sparse vector, so rows whose text
had no SPLADE weight (empty, blank) are skipped and counted. ``--query`` encodes a query with the
same model and searches the sparse field (inner product).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

import pyarrow.dataset as pads
from pymilvus import DataType, MilvusClient

from spladekit import SpladeEncoder

FIELD = "sparse"


def schema(client: MilvusClient) -> Any:
    fields = client.create_schema(auto_id=False, enable_dynamic_field=False)
    fields.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    fields.add_field("text", DataType.VARCHAR, max_length=65535)
    fields.add_field(FIELD, DataType.SPARSE_FLOAT_VECTOR)
    return fields


def rows(
    path: str, id_column: str, batch_size: int, skipped: list[str]
) -> Iterator[list[dict[str, Any]]]:
    """Batches of entities; the ids of rows with an empty vector go to *skipped*."""
    columns = [id_column, "text", "indices", "values"]
    for batch in pads.dataset(path, format="parquet").to_batches(
        columns=columns, batch_size=batch_size
    ):
        ids, texts, indices, values = (batch.column(name).to_pylist() for name in columns)
        entities = []
        for key, text, ix, vs in zip(ids, texts, indices, values, strict=True):
            if not ix:
                skipped.append(str(key))
                continue
            # Milvus' VARCHAR limit counts bytes: cut long texts on a character boundary.
            short = text.encode("utf-8")[:65535].decode("utf-8", "ignore")
            entities.append({"id": str(key), "text": short, FIELD: dict(zip(ix, vs, strict=True))})
        if entities:
            yield entities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", required=True, help="a Parquet file or folder")
    parser.add_argument("--milvus", default="./splade.db", help="Milvus Lite file (*.db) or URL")
    parser.add_argument("--collection", default="splade")
    parser.add_argument("--id-column", default="_id")
    parser.add_argument("--batch-size", type=int, default=256, help="entities per insert")
    parser.add_argument(
        "--model",
        default=os.environ.get("SPLADEKIT_MODEL", "prithivida/Splade_PP_en_v1"),
        help="the model that encoded the documents, for --query (env: SPLADEKIT_MODEL)",
    )
    parser.add_argument("--query", action="append", default=[], help="search for this text")
    args = parser.parse_args()

    client = MilvusClient(args.milvus)
    if not client.has_collection(args.collection):
        index = client.prepare_index_params()
        index.add_index(FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        client.create_collection(args.collection, schema=schema(client), index_params=index)
    total, skipped = 0, []
    for batch in rows(args.parquet, args.id_column, args.batch_size, skipped):
        client.insert(args.collection, batch)
        total += len(batch)
    print(
        f"inserted {total} entities into {args.collection!r}; skipped {len(skipped)} empty vectors"
    )

    if args.query:
        encoder = SpladeEncoder(args.model)
        client.load_collection(args.collection)
        for text, query in zip(args.query, encoder.encode_queries(args.query), strict=True):
            [hits] = client.search(
                args.collection,
                data=[query.to_dict()],
                anns_field=FIELD,
                limit=3,
                output_fields=["text"],
                search_params={"metric_type": "IP", "params": {"drop_ratio_search": 0.0}},
            )
            print(f"query: {text}")
            for hit in hits:
                print(f"  {hit['distance']:8.3f}  {hit['id']}  {hit['entity']['text'][:60]}")
    client.close()


if __name__ == "__main__":
    main()
