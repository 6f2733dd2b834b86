"""Index stage: what a build holds and how it is read.

``layout`` (file names, fingerprint, publish and prune), ``analyzer`` (text to terms),
``keyword`` (BM25), ``vectors`` (Chroma), ``vocabulary`` (term statistics) and
``reader`` (``LoadedIndex``, the live build opened and checked).
"""
