"""Texts Balai sends and prints: notification messages (messages.py) in Bahasa Indonesia."""
