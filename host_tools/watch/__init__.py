"""`host_tools watch`: a live page (frame, label, class scores, FPS, latency chart) served on loopback."""
