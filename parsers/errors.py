"""Errors a parser raises when bytes cannot be turned into a message at all."""


class ParseError(Exception):
    """The bytes are not a message this parser can read; the caller quarantines them."""
