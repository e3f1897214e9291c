"""Fakes of outside systems, at the lowest practical layer (DESIGN "Testing")."""
