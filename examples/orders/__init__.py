"""An order workflow with Legato's Python SDK: workers, the definition, a script, tests."""
