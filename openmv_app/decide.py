# The decision on one frame: the best (smoothed) score's class, or none when that score is below the
# threshold. Pure Python shared by the app (main.py) and the host's threshold tuning (host_tools tune), so
# both decide with the same code.


def best(scores):
    """Index of the highest score (the lowest index on ties)."""
    i = 0
    for j in range(1, len(scores)):
        if scores[j] > scores[i]:
            i = j
    return i


def decide(scores, threshold):
    """(class index, or -1 when its score is below threshold; the best index) for one frame's scores."""
    i = best(scores)
    return (i if scores[i] >= threshold else -1), i
