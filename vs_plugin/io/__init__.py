"""Media I/O rules: how files reach ffmpeg, and where their streams lie in time."""
