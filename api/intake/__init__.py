"""Intake of Tazama-shaped ISO 20022 messages: validation and normalisation."""
