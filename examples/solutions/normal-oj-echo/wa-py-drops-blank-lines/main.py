import sys

for line in sys.stdin:
    if line.strip():
        print(line, end="")
