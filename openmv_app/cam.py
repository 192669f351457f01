# The camera: `csi` (firmware 5) when present, else `sensor`. Returns a snapshot function.


def open_camera(pixformat, framesize):
    try:
        import csi
    except ImportError:
        csi = None
    if csi is not None:
        cam = csi.CSI()
        cam.reset()
        cam.pixformat(getattr(csi, pixformat))
        cam.framesize(getattr(csi, framesize))
        cam.snapshot(time=2000)  # let the sensor settle
        return cam.snapshot
    import sensor

    sensor.reset()
    sensor.set_pixformat(getattr(sensor, pixformat))
    sensor.set_framesize(getattr(sensor, framesize))
    sensor.skip_frames(time=2000)  # let the sensor settle
    return sensor.snapshot


def set_streaming(on):
    """Stop copying frames for the host when streaming is off (saves the JPEG/copy cost per frame).
    omv.disable_fb() exists on firmware 4.x; where it is missing the host alone decides."""
    try:
        import omv
    except ImportError:
        return
    if hasattr(omv, "disable_fb"):
        omv.disable_fb(not on)
