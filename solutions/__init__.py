"""Reference implementations of the course's exercises (instructor side; not in the student release)."""
