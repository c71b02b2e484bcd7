"""Image scorers: each candidate image scored 0–100 per criterion (issue 13)."""
