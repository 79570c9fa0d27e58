"""Turning the user's files and pasted text into demonstrations: decoding, cleaning, and each format's own reader."""
