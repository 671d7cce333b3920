"""Chalice blueprints: parse, call one service, serialize."""
