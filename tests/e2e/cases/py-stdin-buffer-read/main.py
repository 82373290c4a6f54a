# sys.stdin.buffer.read().split(): the usual fast way to read everything.
import sys

print(sum(map(int, sys.stdin.buffer.read().split())))
