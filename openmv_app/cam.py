# The camera: `csi.CSI()` where the firmware has it (4.8 and later), else the `sensor` module. On 4.6-4.7
# `csi` exists but is only another name for `sensor` (no CSI class), so this tests for the feature, not for a
# version. Frame sizes differ too: 4.8+'s csi has no B64X64 or B128X128, for instance.


def camera_module():
    """(module, has_csi_class): the module whose constants name the frame sizes and pixel formats."""
    try:
        import csi

        if hasattr(csi, "CSI"):
            return csi, True
    except ImportError:
        pass
    import sensor

    return sensor, False


def available_framesizes(names):
    """The frame-size names (of `names`) the running firmware's camera module has."""
    mod = camera_module()[0]
    return [n for n in names if hasattr(mod, n)]


def open_camera(pixformat, framesize):
    """Set up the camera (names already checked against available_framesizes); returns a snapshot function."""
    mod, has_csi = camera_module()
    if has_csi:
        cam = mod.CSI()
        cam.reset()
        cam.pixformat(getattr(mod, pixformat))
        cam.framesize(getattr(mod, framesize))
        cam.snapshot(time=2000)  # let the sensor settle
        return cam.snapshot
    mod.reset()
    mod.set_pixformat(getattr(mod, pixformat))
    mod.set_framesize(getattr(mod, framesize))
    mod.skip_frames(time=2000)  # let the sensor settle
    return mod.snapshot


def set_streaming(on):
    """Stop copying frames for the host when streaming is off (saves the JPEG/copy cost per frame).
    omv.disable_fb() exists before firmware 4.8; where it is missing the host alone decides."""
    try:
        import omv
    except ImportError:
        return
    if hasattr(omv, "disable_fb"):
        omv.disable_fb(not on)
