"""FineTuneFlow's trainer: a JSON config in, JSON lines out, the exit code decides success."""

__version__ = "0.1.0"
