"""What the LangChain and LlamaIndex adapters share (private: import the framework packages).

base     the encoder taken (``encoder=``) or loaded (a model and the encoder's options),
and run in a worker thread for async callers
shapes   SparseVector → each store's shape, as plain Python ints and floats
retrieval  the SpladeRetrievers' saved folder (index, settings) and the encoder it needs
"""
