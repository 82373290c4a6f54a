# Keeps a new 1M-element list alive on every iteration.
keep = []
while True:
    keep.append(list(range(1 << 20)))
