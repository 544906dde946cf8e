"""Getting a runnable model: from a name or folder to an ONNX Runtime session.

In call order::

    catalog   the models spladekit has facts about (licence, files, activation, query side)
    locate    name or folder → files on disk (local folder, Hugging Face cache, Hub download)
      hub       the downloads themselves, through huggingface_hub
      layout    what a sentence-transformers folder's modules.json says
    prepare   an exported ONNX graph → a graph that pools inside the model, made once
      rewrite   the rewrite of the export itself
    build     safetensors weights + config.json → the same kind of graph, made once
    quantize  a pooled fp32 graph → its int8 copy
    graph     the pooled head every graph ends in, and the one way graphs are read and written
    cache     where prepared and built graphs are kept, and how an entry is written
    load      files → a loaded model (tokenizer, session, activation), and the query side

:mod:`spladekit.pipeline` runs what this package loads.
"""
