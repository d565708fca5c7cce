"""Text-to-speech providers behind one interface, and the phrase cache."""
