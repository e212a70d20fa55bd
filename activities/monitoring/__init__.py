"""The monitoring engine's side effects: configuration store, history, features, evaluations."""
