"""Deploying the board program to a Linux board (the RV1103 / Luckfox Pico) as verified releases."""
