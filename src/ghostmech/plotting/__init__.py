"""ghostmech.plotting."""
