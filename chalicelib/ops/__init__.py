"""Operator commands (python -m chalicelib.ops ...): table, regions, accounts, demo data."""
