"""Tests of the integration's RTSP package."""
