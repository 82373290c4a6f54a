# The frozen standard library: every module contestants reach for.
import bisect, collections, functools, heapq, itertools, json, math, re, string, sys

a, b = map(int, re.findall(r"-?\d+", sys.stdin.readline()))
h = [b, a]
heapq.heapify(h)
counts = collections.Counter([a, b])
total = functools.reduce(lambda x, y: x + y, itertools.chain(h))
assert math.isclose(total, json.loads(json.dumps(a + b))) and bisect.bisect([1, 2], 1) == 1
assert sum(counts.values()) == 2 and string.digits == "0123456789"
sys.stdout.write(f"{total}\n")
