"""The transactional outbox: side effects written with the change, relayed to arq after commit."""
