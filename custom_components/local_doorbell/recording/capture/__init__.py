"""Capture: reading a doorbell's stream, the pre-roll, writing clips and pictures."""
