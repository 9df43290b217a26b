"""Notifications: e-mail queued through the outbox and sent by a worker job."""
