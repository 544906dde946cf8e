"""Getting a runnable model: from a name or folder to an ONNX Runtime session.

In call order::

    catalog   the models spladekit has facts about (licence, files, activation, query side)
    locate    name or folder → files on disk (local folder, Hugging Face cache, Hub download)
    prepare   an exported ONNX graph → a graph that pools inside the model, made once
    cache     where prepared graphs are kept
    load      files → a loaded model (tokenizer, session, activation), and the query side

:mod:`spladekit.pipeline` runs what this package loads.
"""
