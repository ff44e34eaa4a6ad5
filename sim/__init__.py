"""The world: scenario schema and rules, catalog, market, event log, sessions by surface, the simpy calendar."""
