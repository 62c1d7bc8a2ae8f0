"""The one exception users see: a mistake they can fix. The CLI prints it on one line, exit code 2."""


class UsageError(Exception):
    """A mistake in how a command was called or in its input; the message says what to fix."""
