"""A local stand-in for Stripe: the subset of its HTTP API that the Stripe adapter uses, its
hosted payment page, signed webhooks, and fault injection for tests. Run by hypercorn as its
own process (app/devstack/paysim.py); the real `stripe` SDK talks to it unchanged."""
