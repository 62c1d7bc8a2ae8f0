"""The application: the ``optout-audit`` commands, the run lifecycle and the input list."""
