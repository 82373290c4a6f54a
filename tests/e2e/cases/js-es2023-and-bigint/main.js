// ES2023 and BigInt as contestants use them.
const [a, b] = readline().split(' ').map(BigInt);
const xs = [3, 1, 2].toSorted((x, y) => x - y);
const big = 2n ** 64n;
const ok = xs.at(-1) === 3 && xs.findLast((x) => x < 3) === 2 && big % 10n === 6n && Object.groupBy(xs, (x) => x % 2)[1].length === 2;
console.log(ok ? String(a + b) : 'wrong');
