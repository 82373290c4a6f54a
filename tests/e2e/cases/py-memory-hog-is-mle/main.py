xs = []
while True:
    xs.append([0] * 100000)
