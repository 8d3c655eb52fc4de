"""Speed measurements of the course's reference implementations (make bench)."""
