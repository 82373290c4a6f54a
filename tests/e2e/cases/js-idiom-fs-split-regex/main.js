// Node style: all of stdin at once, split on whitespace (the fast path).
const [n, ...xs] = require('fs').readFileSync(0, 'utf8').trim().split(/\s+/).map(Number);
console.log(xs.length === n ? xs.reduce((a, b) => a + b, 0) : 'count');
