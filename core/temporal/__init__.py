"""Saku's Temporal layer, each part defined once: client, worker, interceptors, search
attributes, schedules and the idempotent start of a workflow (`core.temporal.start`)."""
