"""Developer tools (screenshots for the README and reviews)."""
