"""The rule catalogue: Tazama's rules and Saku's school rules, one module each."""
