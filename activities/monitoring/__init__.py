"""The monitoring engine's side effects: configuration store, history, features, the rule
catalogue (`rules`), the pipeline every evaluation goes through (`pipeline`) and the
evaluation workflows' activities (`evaluate`)."""
