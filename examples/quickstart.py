"""Quickstart: fastembed's SPLADE page, step by step, on spladekit.

python examples/quickstart.py                      # the default model from the Hub
python examples/quickstart.py --model ./my-splade  # or any local folder / repo id
SPLADEKIT_MODEL=./my-splade python examples/quickstart.py
"""

from __future__ import annotations

import argparse
import os
from pprint import pprint

from spladekit import SparseVector, SpladeEncoder

from chandrayaan import DOCUMENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        default=os.environ.get("SPLADEKIT_MODEL", "prithivida/Splade_PP_en_v1"),
        help="Hub repo id, known model name or local folder (env: SPLADEKIT_MODEL)",
    )
    args = parser.parse_args()

    # 1. The models spladekit knows facts about (any other ONNX SPLADE export loads too).
    pprint(SpladeEncoder.list_models()[0])

    # 2. Load: downloads only model.onnx + tokenizer files on first use, then uses the HF cache.
    model = SpladeEncoder.from_pretrained(args.model)
    print(model)

    # 3. Embed the documents (a generator, like fastembed's embed).
    sparse_embeddings_list: list[SparseVector] = list(model.embed(DOCUMENTS, batch_size=6))

    # 4. Each vector holds sorted token ids and their weights.
    index = 0
    first = sparse_embeddings_list[index]
    print(first)
    for i in range(5):
        print(f"Token at index {first.indices[i]} has weight {first.values[i]}")

    # 5. Which tokens are these? explain() replaces the page's get_tokens_and_weights; it
    #    prints as a table (and shows weight bars in a notebook).
    explanation = model.explain(first, top_k=10)
    print(explanation)

    # 6. Expansion: weights on words the text does not contain ("lunar" -> "moons").
    text = DOCUMENTS[index].lower()
    expansion = [token for token, _ in explanation if token.isalpha() and token not in text]
    print(f"expansion terms: {', '.join(expansion)}")

    # 7. Queries take the query path (the same model here) and score by dot product.
    question = "When did Chandrayaan-3 land on the Moon?"
    query = model.encode_query(question)
    ranked = sorted(
        range(len(DOCUMENTS)), key=lambda i: query.dot(sparse_embeddings_list[i]), reverse=True
    )
    print(f"query: {question}")
    for rank, i in enumerate(ranked[:3], start=1):
        print(f"  #{rank} {query.dot(sparse_embeddings_list[i]):6.2f}  {DOCUMENTS[i]}")


if __name__ == "__main__":
    main()
