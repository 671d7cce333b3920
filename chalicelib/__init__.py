"""Balai: public services for Indonesian villages (the code Chalice deploys)."""
