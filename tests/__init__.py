"""Tests for tgpilot."""
