# Prints the query without flushing, then waits for the reply: the query sits
# in the program's own buffer, so both sides wait to read (a deadlock).
import sys

n = int(sys.stdin.readline())
print("?", n // 2)
reply = sys.stdin.readline()
print("!", n // 2)
