"""All SQL lives here. Functions take a session and flush; they never commit."""
