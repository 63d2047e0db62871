"""A deterministic contact center behind the three vendor APIs, with ground truth and faults.

`world` generates what happened, `app` serves it over HTTP exactly as docs/vendors.md describes (and
misbehaves on purpose when faults are on), `truth` says what the marts must contain, and
`server` runs the app on a loopback port in a thread for tests and the demo.
"""
