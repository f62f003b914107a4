"""ghostmech.dynamics."""
