"""What a finished world was worth, from its logs: shopper outcomes, metrics, curves, latency, causal effects, facts.

Pure functions of event-log tables (one world's, or twin worlds'): nothing here simulates or writes a file.
"""
