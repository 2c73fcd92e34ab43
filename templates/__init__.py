"""Package data: outline templates, label catalogs and the theme (read via deck.resources)."""
