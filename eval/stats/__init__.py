"""Statistics with no world in them: the bootstrap, intervals across seeds, A/B tests, probability quality, checks.

Every function here takes arrays and returns numbers; nothing simulates, reads an event log or writes a file.
"""
