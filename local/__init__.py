"""Local mode: the whole product on one machine (never deployed).

moto server stands in for AWS (resources created from the synthesized CloudFormation template),
the Amazon emulator stands in for Amazon, a local HTTP gateway builds API Gateway HTTP API
(payload 2.0) events for the real Lambda handlers, and a timer plays EventBridge Scheduler and
the SQS event source. ``make local`` / ``python -m local`` runs it; see docs/local-mode.md.
"""
