"""ghostmech.canonical."""
