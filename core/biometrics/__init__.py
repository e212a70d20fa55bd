"""Children's biometric data: the pure rules (consent), apart from the keys and storage."""
