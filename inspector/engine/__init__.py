"""Model backends: the only package that imports llama_cpp; no Textual here."""
