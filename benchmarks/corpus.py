"""The benchmark's texts: BEIR SciFact from ../shared when present, else a built-in stand-in.

SciFact abstracts are ordinary scientific passages (median ~250 word pieces with the title,
a tail past 512). The fallback builds passages of similar spread from a fixed set of
sentences, so a fresh clone without the shared data still runs every step.
"""

from __future__ import annotations

import json
import random
import re
import string
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCIFACT = BENCH.parent.parent / "shared" / "data" / "scifact"

_SENTENCES = [
    "Alterations of the architecture of cerebral white matter can affect cortical development.",
    "A line scan diffusion-weighted magnetic resonance imaging sequence was applied to newborns.",
    "The apparent diffusion coefficient decreased with gestational age in central white matter.",
    "Mitochondrial dysfunction is a hallmark of many neurodegenerative diseases in older adults.",
    "We measured the expression of inflammatory cytokines in peripheral blood mononuclear cells.",
    "Randomized controlled trials found no significant reduction in cardiovascular mortality.",
    "The lunar lander touched down near the south pole after a three-week orbital approach.",
    "Vitamin D supplementation did not change bone mineral density over a two year follow-up.",
    "Tumour cells escape immune surveillance by expressing ligands of inhibitory receptors.",
    "Gene knockout mice developed insulin resistance when fed a diet rich in saturated fat.",
    "Sparse lexical retrieval expands each passage with terms its authors never wrote down.",
    "The cohort included twelve thousand participants recruited from forty primary care sites.",
    "Phosphorylation of the kinase domain is required for downstream signalling to proceed.",
    "Antibiotic resistance spread through horizontal transfer of plasmids between species.",
    "Sleep deprivation impaired working memory and increased reaction times in young adults.",
    "The protein folds into a beta barrel that spans the outer membrane of the bacterium.",
]


def _fallback_texts(count: int) -> list[str]:
    rng = random.Random(0)
    return [
        " ".join(rng.choice(_SENTENCES) for _ in range(rng.choice([2, 3, 4, 6, 8, 10, 14, 24])))
        for _ in range(count)
    ]


def load_corpus(limit: int | None = None) -> list[str]:
    """Title + abstract per SciFact document (BEIR's usual text), in file order."""
    path = SCIFACT / "corpus.jsonl"
    if not path.exists():
        return _fallback_texts(limit or 600)
    texts: list[str] = []
    with path.open() as lines:
        for line in lines:
            row = json.loads(line)
            texts.append(f"{row['title']} {row['text']}".strip())
            if limit is not None and len(texts) >= limit:
                break
    return texts


def load_corpus_ids() -> list[str]:
    """SciFact document ids in file order (empty without the shared data)."""
    path = SCIFACT / "corpus.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["_id"] for line in path.open()]


def load_test_queries() -> tuple[list[str], dict[str, list[str]]]:
    """SciFact test claims and their relevant document ids (empty without the shared data)."""
    qrels_path = SCIFACT / "qrels" / "test.tsv"
    if not qrels_path.exists():
        return [], {}
    relevant: dict[str, list[str]] = {}
    for line in qrels_path.read_text().splitlines()[1:]:
        query_id, doc_id, _ = line.split("\t")
        relevant.setdefault(query_id, []).append(doc_id)
    queries: dict[str, str] = {}
    for line in (SCIFACT / "queries.jsonl").open():
        row = json.loads(line)
        queries[row["_id"]] = row["text"]
    ids = [q for q in relevant if q in queries]
    return [queries[q] for q in ids], {queries[q]: relevant[q] for q in ids}


def sample_queries(count: int) -> list[str]:
    """Distinct short queries: SciFact claims when present, else made-up ones."""
    texts, _ = load_test_queries()
    if not texts:
        words = re.findall(r"[a-z]+", " ".join(_SENTENCES).lower())
        rng = random.Random(1)
        texts = [" ".join(rng.sample(words, rng.randint(5, 10))) for _ in range(count)]
    return list(dict.fromkeys(texts))[:count]


def fallback_tokenizer(vocab_size: int):  # type: ignore[no-untyped-def]
    """A bert-style WordPiece tokenizer over the fallback sentences, padded to *vocab_size*."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab += ["##" + c for c in string.ascii_lowercase + string.digits]
    for word in re.findall(r"[a-z]+", " ".join(_SENTENCES).lower()):
        if word not in vocab:
            vocab.append(word)
    vocab += [f"[unused{i}]" for i in range(vocab_size - len(vocab))]
    tokenizer = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    return tokenizer
