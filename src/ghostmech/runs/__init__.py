"""ghostmech.runs."""
