"""ghostmech.paper."""
