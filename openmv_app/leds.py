# The RGB LED: one color per predicted label.
# machine.LED("LED_RED") on newer firmware, pyb.LED(1..3) on older.

_RGB = {
    "off": (0, 0, 0),
    "red": (1, 0, 0),
    "green": (0, 1, 0),
    "blue": (0, 0, 1),
    "yellow": (1, 1, 0),
    "cyan": (0, 1, 1),
    "magenta": (1, 0, 1),
    "white": (1, 1, 1),
}


def open_leds():
    try:
        import machine

        return [machine.LED("LED_RED"), machine.LED("LED_GREEN"), machine.LED("LED_BLUE")]
    except (ImportError, AttributeError, ValueError):
        import pyb

        return [pyb.LED(1), pyb.LED(2), pyb.LED(3)]


def show(leds, color):
    for led, on in zip(leds, _RGB.get(color, (0, 0, 0))):
        if on:
            led.on()
        else:
            led.off()
