"""models/discriminators."""
