"""ghostmech.networks."""
