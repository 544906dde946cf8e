"""Upsert encoded Parquet (spladekit encode / spladekit.ray) into Qdrant as sparse vectors.

python examples/parquet_to_qdrant.py --parquet vectors/ --model ./my-splade --query "..."
python examples/parquet_to_qdrant.py --parquet vectors/ --qdrant http://localhost:6333

Each row becomes a point whose named sparse vector is ``SparseVector(indices, values)``, read
straight from the ``indices`` / ``values`` columns, in batches. The id column's value is kept
in the payload; Qdrant point ids must be unsigned ints or UUIDs, so other ids become a UUID
derived from the value. ``--query`` encodes a query with the same model and searches.
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow.dataset as pads
from qdrant_client import QdrantClient, models

from spladekit import SpladeEncoder

VECTOR = "splade"


def point_id(value: Any) -> int | str:
    """An unsigned int stays; anything else becomes a stable UUID of its text."""
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return str(uuid.uuid5(uuid.NAMESPACE_URL, str(value)))


def points(path: str, id_column: str, batch_size: int) -> Iterator[list[models.PointStruct]]:
    """Batches of points, one per Parquet row (plain ints and floats: what the client wants)."""
    columns = [id_column, "text", "indices", "values"]
    for batch in pads.dataset(path, format="parquet").to_batches(
        columns=columns, batch_size=batch_size
    ):
        ids, texts, indices, values = (batch.column(name).to_pylist() for name in columns)
        yield [
            models.PointStruct(
                id=point_id(key),
                vector={VECTOR: models.SparseVector(indices=ix, values=vs)},
                payload={id_column: key, "text": text},
            )
            for key, text, ix, vs in zip(ids, texts, indices, values, strict=True)
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet", required=True, help="a Parquet file or folder")
    parser.add_argument("--qdrant", default=":memory:", help="URL, local path or :memory:")
    parser.add_argument("--collection", default="splade")
    parser.add_argument("--id-column", default="_id")
    parser.add_argument("--batch-size", type=int, default=256, help="points per upsert")
    parser.add_argument(
        "--model",
        default=os.environ.get("SPLADEKIT_MODEL", "prithivida/Splade_PP_en_v1"),
        help="the model that encoded the documents, for --query (env: SPLADEKIT_MODEL)",
    )
    parser.add_argument("--query", action="append", default=[], help="search for this text")
    args = parser.parse_args()

    if args.qdrant.startswith(("http://", "https://")):
        client = QdrantClient(url=args.qdrant)
    elif args.qdrant == ":memory:":
        client = QdrantClient(":memory:")
    else:
        client = QdrantClient(path=args.qdrant)  # embedded, kept on disk
    if not client.collection_exists(args.collection):
        client.create_collection(
            args.collection,
            vectors_config={},
            sparse_vectors_config={VECTOR: models.SparseVectorParams()},
        )
    total = 0
    for batch in points(args.parquet, args.id_column, args.batch_size):
        client.upsert(args.collection, points=batch, wait=True)
        total += len(batch)
    print(f"upserted {total} points into {args.collection!r}")

    if args.query:
        encoder = SpladeEncoder(args.model)
        for text, query in zip(args.query, encoder.encode_queries(args.query), strict=True):
            hits = client.query_points(
                args.collection,
                query=models.SparseVector(
                    indices=query.indices.tolist(), values=query.values.tolist()
                ),
                using=VECTOR,
                limit=3,
            ).points
            print(f"query: {text}")
            for hit in hits:
                print(
                    f"  {hit.score:8.3f}  {hit.payload[args.id_column]}  {hit.payload['text'][:60]}"
                )
    client.close()


if __name__ == "__main__":
    main()
