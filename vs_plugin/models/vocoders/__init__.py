"""models/vocoders."""
