"""RTSP 1.0 serving, free of Home Assistant: the restream, and the virtual doorbell's server."""
