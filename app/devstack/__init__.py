"""Private PostgreSQL, Redis, Varnish and SMTP-sink servers on loopback, for `edgecart dev` and
the tests.

Each server runs from the system binaries in a directory of its own and is stopped by its owner.
"""
