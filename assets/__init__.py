"""Package data: article data files and the fonts measured for layout (read via deck.resources)."""
