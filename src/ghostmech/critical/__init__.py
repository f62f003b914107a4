"""ghostmech.critical: predict and measure a network's critical learning rate (docs/critical.md)."""
