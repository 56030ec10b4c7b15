"""wbs: whistle-blowing, complaints, gratification and conflict-of-interest channels."""

__version__ = "0.1.0"
