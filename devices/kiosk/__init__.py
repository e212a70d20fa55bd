"""The kiosk agent: drives a fingerprint sensor through pyfingerprint and talks to Saku
with requests signed by the kiosk's own key."""
