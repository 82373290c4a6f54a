// readFileSync without an encoding gives bytes whose toString() is the text.
const data = require('fs').readFileSync(0);
const xs = data.toString().split(/\s+/).filter(Boolean).slice(1);
process.stdout.write(xs.map(BigInt).reduce((a, b) => a + b, 0n).toString() + '\n');
