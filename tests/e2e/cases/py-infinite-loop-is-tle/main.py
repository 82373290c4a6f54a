# A busy loop: its fuel runs out (TLE).
i = 0
while True:
    i += 1
