// /dev/stdin, lines, then / +/ and parseInt.
const lines = require('fs').readFileSync('/dev/stdin', 'utf8').trim().split('\n');
let sum = 0;
for (const line of lines.slice(1)) for (const x of line.split(/ +/g)) sum += parseInt(x, 10);
console.log(sum);
