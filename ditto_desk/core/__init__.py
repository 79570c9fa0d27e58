"""The headless core: no Qt import anywhere below this package (an import-linter contract enforces it)."""
