"""The path a text takes to become a sparse vector, one module per step.

In call order::

    text      the caller's texts checked (a list of str, positions named in errors)
    tokenize  text → token ids → segments (the text itself, its head, or overlapping windows)
    batch     segments sorted by length → padded batches within a token budget
    run       a batch → (batch, vocab) max-pooled logits on ONNX Runtime
              (huge_pages: the session's packed weights moved onto 2 MiB pages)
    pool      pooled logits → activation → windows merged → pruned → SparseVector
    lookup    the inference-free query path: token ids → weights from a table, no model run

:class:`~spladekit.SpladeEncoder` strings the steps together; :mod:`spladekit.model` gets the
runnable model they need.
"""
