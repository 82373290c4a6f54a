const input = require('fs').readFileSync(0, 'utf8');
console.log(input.trim().split(' ').map(Number).reduce((x, y) => x + y, 0));
process.exit(5);
