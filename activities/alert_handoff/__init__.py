"""Alerts handed off beyond Saku to a tenant's SIEM: a signed webhook and a CEF syslog line."""
