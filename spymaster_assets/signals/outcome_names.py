"""Names shared by touches, labels, schemas and validation."""

UP = "UP"
DOWN = "DOWN"
DIRECTIONS = (UP, DOWN)
OUTCOMES = ("CHOP", "BREAK", "BOUNCE")  # codes 0, 1, 2 in the label kernel
