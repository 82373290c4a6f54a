# The curated standard library: every module the plugin promises, imported
# and used a little inside a submission.
import array, bisect, cmath, collections, copy, dataclasses, datetime, decimal
import enum, fractions, functools, heapq, io, itertools, json, math, numbers
import operator, os, queue, random, re, statistics, string, sys, time, typing

a, b = map(int, re.findall(r"-?\d+", sys.stdin.readline()))
h = [b, a]
heapq.heapify(h)
counts = collections.Counter([a, b])
total = functools.reduce(operator.add, itertools.chain(h))
assert math.isclose(total, json.loads(json.dumps(a + b))) and bisect.bisect([1, 2], 1) == 1
assert sum(counts.values()) == 2 and string.digits == "0123456789"
assert cmath.sqrt(-1) == 1j and array.array("i", [a, b]).tolist() == [a, b]
assert copy.deepcopy([[a]]) == [[a]] and isinstance(total, numbers.Integral)
assert decimal.Decimal(a) + b == total and fractions.Fraction(total, 1) == total
assert statistics.mean([a, b]) * 2 == total and random.Random(1).random() < 1
assert datetime.date(2024, 1, 1).isoweekday() == 1 and time.time() > 0
assert os.sep == "/" and io.StringIO("x").read() == "x" and queue.Queue().empty()


@dataclasses.dataclass(frozen=True)
class Pair:
    a: int
    b: typing.Optional[int] = None


class Colour(enum.Enum):
    RED = 1


assert Pair(a, b) == Pair(a, b) and Colour(1) is Colour.RED
sys.stdout.write(f"{total}\n")
