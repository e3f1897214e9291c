"""The only code that talks to the outside world, one package per system."""
