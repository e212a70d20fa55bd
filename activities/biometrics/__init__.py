"""Biometric templates: the key-encryption keys, the encrypted store, erasure."""
