"""The generator's three encoders: temporal (video), acoustic (timbre), background."""
