"""cxone: records.py (wire schema, Pandera model, canonical events) and client.py (HTTP)."""
