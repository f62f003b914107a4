"""ghostmech.training."""
