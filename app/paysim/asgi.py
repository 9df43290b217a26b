"""The simulator for hypercorn: `hypercorn app.paysim.asgi:app`."""

from app.paysim.app import from_env

app = from_env()
