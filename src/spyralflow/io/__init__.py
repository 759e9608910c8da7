"""Readers and writers of the files that move between phases (Spyral's layouts)."""
