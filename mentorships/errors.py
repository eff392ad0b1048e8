"""Errors a user can act on: the message names the cause and the fix."""


class StackError(Exception):
    """Something about the local stack is wrong; str(error) says what and what to do."""
