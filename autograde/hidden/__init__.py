"""Hidden cases, used when grading (instructor side; not in the student release)."""
