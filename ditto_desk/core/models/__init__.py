"""The language model: which one (plain settings), where it comes from (bundled, GGUF, the hub), loading it, and the
token-level work every phase shares (chat encoding, decoding, scoring)."""
