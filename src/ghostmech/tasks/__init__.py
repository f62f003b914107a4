"""ghostmech.tasks."""
