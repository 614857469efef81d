"""The user's project: sources, segments, journeys and destinations, loaded and validated."""
