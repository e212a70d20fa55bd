"""Saku's Temporal layer: client, worker, codec and search attributes, each defined once here."""
