"""Rubrics, one file per project (see grader/rubric.py)."""
