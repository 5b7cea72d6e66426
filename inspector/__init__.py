"""organism-inspector: compare a fine-tuned model organism with its base model and catch its leaks."""

__version__ = "0.1.0"
