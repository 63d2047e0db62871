"""One package per vendor: its records (schema, parsing, canonical events) and its client."""
