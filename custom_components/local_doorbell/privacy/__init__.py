"""Privacy guards: nothing leaves the house."""
