# 100 MB written a megabyte at a time: the output cap (1 MiB here) ends it
# as OLE long before.
import sys

chunk = "x" * 1_000_000
for _ in range(100):
    sys.stdout.write(chunk)
